package dev.vmonboard.core.testing;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.Registrar;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link Registrar} that keeps workloads in memory: seed it with {@link #add(Workload...)},
 * inspect what was registered with {@link #registrations()}. Label selectors support equality terms
 * ({@code app=backend,class=vm}).
 */
public final class InMemoryRegistrar extends InMemoryStage implements Registrar {

  private final Map<WorkloadRef, Workload> workloads = new ConcurrentSkipListMap<>();
  private final Queue<Registration> registrations = new ConcurrentLinkedQueue<>();

  /** A registrar recording into {@code log}. */
  public InMemoryRegistrar(CallLog log) {
    super("Registrar", log);
  }

  /** A registrar with its own log. */
  public InMemoryRegistrar() {
    this(new CallLog());
  }

  /** Adds workloads as if they were already registered. */
  public InMemoryRegistrar add(Workload... added) {
    for (Workload workload : added) {
      workloads.put(workload.ref(), workload);
    }
    return this;
  }

  /** The workloads registered now. */
  public List<Workload> workloads() {
    return List.copyOf(workloads.values());
  }

  /** Every registration received, in order. */
  public List<Registration> registrations() {
    return List.copyOf(registrations);
  }

  @Override
  public Workload register(Registration registration) {
    Workload workload = registration.workload();
    return call(
        "register",
        workload.ref(),
        () -> {
          registrations.add(registration);
          workloads.put(workload.ref(), workload);
          return workload;
        });
  }

  @Override
  public Workload resolve(WorkloadRef ref) {
    return call(
        "resolve",
        ref,
        () -> {
          Workload workload = workloads.get(ref);
          if (workload == null) {
            throw new NotFoundException(
                "workload " + ref + " is not registered", "register it first");
          }
          return workload;
        });
  }

  @Override
  public List<Workload> list(WorkloadSelector selector) {
    Map<String, String> wanted = parse(selector);
    List<Workload> matching = new ArrayList<>();
    for (Workload workload : workloads.values()) {
      boolean inNamespace = selector.namespace().map(workload.namespace()::equals).orElse(true);
      if (inNamespace && workload.metadataLabels().entrySet().containsAll(wanted.entrySet())) {
        matching.add(workload);
      }
    }
    return matching;
  }

  @Override
  public void recordBootstrap(WorkloadRef ref, BootstrapRecord record) {
    call(
        "record",
        ref,
        () ->
            workloads.computeIfPresent(
                ref,
                (key, workload) ->
                    workload.toBuilder().putAllAnnotations(record.toAnnotations()).build()));
  }

  @Override
  public boolean deregister(WorkloadRef ref) {
    return undo("deregister", ref, () -> workloads.remove(ref) != null);
  }

  private static Map<String, String> parse(WorkloadSelector selector) {
    Map<String, String> wanted = new HashMap<>();
    if (selector.labelSelector().isEmpty()) {
      return wanted;
    }
    for (String term : selector.labelSelector().get().split(",")) {
      String[] parts = term.split("=", 2);
      if (parts.length != 2 || parts[0].isBlank()) {
        throw InvalidInputException.of(
            null,
            "label selector",
            Problem.of("selector", "'" + term + "': the test kit understands key=value terms"));
      }
      wanted.put(parts[0].trim(), parts[1].trim());
    }
    return wanted;
  }
}
