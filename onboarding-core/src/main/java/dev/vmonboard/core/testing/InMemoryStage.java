package dev.vmonboard.core.testing;

import dev.vmonboard.core.WorkloadRef;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * What every in-memory stage shares: it records its calls in a {@link CallLog} and can be told to
 * fail ({@link #failWith(Fault)} for its main operation, {@link #failUndoWith(Fault)} for its undo
 * operation, {@link #failRollbackWith(Fault)} for the operations on the previous copy a transport
 * or launcher keeps for a rollback).
 */
public abstract class InMemoryStage {

  private final String component;
  private final CallLog log;
  private final List<Fault> faults = new CopyOnWriteArrayList<>();
  private final List<Fault> undoFaults = new CopyOnWriteArrayList<>();
  private final List<Fault> rollbackFaults = new CopyOnWriteArrayList<>();

  InMemoryStage(String component, CallLog log) {
    this.component = component;
    this.log = log;
  }

  /** Injects a fault into the main operation (register/resolve, issue, deliver, launch). */
  public final void failWith(Fault fault) {
    faults.add(fault);
  }

  /** Injects a fault into the undo operation (deregister, remove). */
  public final void failUndoWith(Fault fault) {
    undoFaults.add(fault);
  }

  /**
   * Injects a fault into the operations on the previous copy kept for a rollback ({@code
   * restorePrevious}, {@code discardPrevious} of the transport and the launcher).
   */
  public final void failRollbackWith(Fault fault) {
    rollbackFaults.add(fault);
  }

  /** Removes every injected fault. */
  public final void clearFaults() {
    faults.clear();
    undoFaults.clear();
    rollbackFaults.clear();
  }

  /** The log this stage records into. */
  public final CallLog log() {
    return log;
  }

  /** Records and runs a main operation, striking the first fault that applies. */
  final <T> T call(String operation, WorkloadRef workload, Supplier<T> body) {
    return invoke(faults, operation, workload, body);
  }

  /** Records and runs an undo operation. */
  final <T> T undo(String operation, WorkloadRef workload, Supplier<T> body) {
    return invoke(undoFaults, operation, workload, body);
  }

  /** Records and runs an operation on the previous copy kept for a rollback. */
  final <T> T rollback(String operation, WorkloadRef workload, Supplier<T> body) {
    return invoke(rollbackFaults, operation, workload, body);
  }

  /**
   * Moves what {@code kept} holds for {@code key} back into {@code current}, replacing what is
   * there; whether anything was kept.
   */
  static <V> boolean putBack(Map<String, V> kept, Map<String, V> current, String key) {
    V value = kept.remove(key);
    if (value == null) {
      return false;
    }
    current.put(key, value);
    return true;
  }

  /**
   * Removes what {@code current} and {@code kept} hold for {@code key}; returns the current one.
   */
  static <V> V forget(Map<String, V> current, Map<String, V> kept, String key) {
    kept.remove(key);
    return current.remove(key);
  }

  private <T> T invoke(
      List<Fault> applicable, String operation, WorkloadRef workload, Supplier<T> body) {
    log.record(new CallLog.Call(component, operation, workload));
    log.enter();
    try {
      for (Fault fault : applicable) {
        if (fault.appliesTo(Optional.ofNullable(workload))) {
          fault.strike(component + "." + operation);
          break;
        }
      }
      return body.get();
    } finally {
      log.exit();
    }
  }
}
