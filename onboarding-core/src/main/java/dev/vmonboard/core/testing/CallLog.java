package dev.vmonboard.core.testing;

import dev.vmonboard.core.WorkloadRef;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every call the in-memory stages of one {@link InMemoryStages} received, in order, and how many
 * were in flight at once at most. Thread-safe.
 */
public final class CallLog {

  /**
   * One call.
   *
   * @param component {@code Registrar}, {@code TokenIssuer}, {@code Transport} or {@code
   *     ProxyLauncher}
   * @param operation e.g. {@code deliver}
   * @param workload the workload concerned
   */
  public record Call(String component, String operation, WorkloadRef workload) {
    @Override
    public String toString() {
      return component + "." + operation + "(" + workload + ")";
    }
  }

  private final List<Call> calls = new ArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  synchronized void record(Call call) {
    calls.add(call);
  }

  void enter() {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
  }

  void exit() {
    inFlight.decrementAndGet();
  }

  /** Every call so far, in order. */
  public synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  /** The calls for one workload, in order. */
  public synchronized List<Call> calls(WorkloadRef workload) {
    return calls.stream().filter(call -> call.workload().equals(workload)).toList();
  }

  /** The calls of one operation (e.g. {@code deliver}), in order. */
  public synchronized List<Call> calls(String operation) {
    return calls.stream().filter(call -> call.operation().equals(operation)).toList();
  }

  /** The most stage calls that were running at the same moment. */
  public int maxConcurrentCalls() {
    return maxInFlight.get();
  }

  /** Forgets every call and the concurrency peak. */
  public synchronized void clear() {
    calls.clear();
    maxInFlight.set(inFlight.get());
  }
}
