package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The call log of the VMs shared by several controller replicas: every call a replica's transport
 * or launcher made on a VM, with the replica and when it started and ended (monotonic clock), so
 * that a test can check that no two calls on one VM overlapped. Thread-safe.
 */
final class VmVisits {

  /** One stage call on one VM. */
  record Visit(String replica, WorkloadRef workload, String operation, long start, long end) {
    boolean overlaps(Visit other) {
      return start < other.end && other.start < end;
    }
  }

  private final ConcurrentLinkedQueue<Visit> visits = new ConcurrentLinkedQueue<>();
  private final Map<String, Integer> stallAfter = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> stalled = new ConcurrentHashMap<>();

  /**
   * Makes {@code replica}'s deliveries after its first {@code deliveries} hang until interrupted
   * (then fail): a replica stuck mid-run, whose VMs only get onboarded if others take over.
   */
  void stallAfter(String replica, int deliveries) {
    stallAfter.put(replica, deliveries);
  }

  /** How many of {@code replica}'s deliveries hang right now or hung. */
  int stalled(String replica) {
    return stalled.computeIfAbsent(replica, r -> new AtomicInteger()).get();
  }

  /** {@code replica}'s view of the VMs: {@code transport} and {@code launcher}, logged here. */
  VmStages stages(String replica, Transport transport, ProxyLauncher launcher) {
    return VmStages.of(
        new LoggedTransport(replica, transport), new LoggedLauncher(replica, launcher));
  }

  List<Visit> visits() {
    return List.copyOf(visits);
  }

  /**
   * Calls on one VM that overlapped in time (each with the earlier call that ended last), whether
   * made by different replicas or not.
   */
  List<String> overlaps() {
    List<String> found = new ArrayList<>();
    Map<WorkloadRef, List<Visit>> byVm =
        visits.stream().collect(Collectors.groupingBy(Visit::workload));
    byVm.forEach(
        (vm, calls) -> {
          List<Visit> sorted = new ArrayList<>(calls);
          sorted.sort(Comparator.comparingLong(Visit::start));
          Visit lastToEnd = null;
          for (Visit visit : sorted) {
            if (lastToEnd != null && lastToEnd.overlaps(visit)) {
              found.add(lastToEnd + " / " + visit);
            }
            if (lastToEnd == null || visit.end() > lastToEnd.end()) {
              lastToEnd = visit;
            }
          }
        });
    return found;
  }

  private void stallIfAsked(String replica) {
    Integer limit = stallAfter.get(replica);
    int count = deliveries.computeIfAbsent(replica, r -> new AtomicInteger()).incrementAndGet();
    if (limit == null || count <= limit) {
      return;
    }
    stalled.computeIfAbsent(replica, r -> new AtomicInteger()).incrementAndGet();
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the delivery was interrupted", e);
    }
  }

  private <T> T visit(String replica, StageContext context, String operation, Supplier<T> call) {
    long start = System.nanoTime();
    try {
      return call.get();
    } finally {
      visits.add(new Visit(replica, context.workload(), operation, start, System.nanoTime()));
    }
  }

  private void visit(String replica, StageContext context, String operation, Runnable call) {
    visit(
        replica,
        context,
        operation,
        () -> {
          call.run();
          return null;
        });
  }

  private final class LoggedTransport implements Transport {
    private final String replica;
    private final Transport delegate;

    LoggedTransport(String replica, Transport delegate) {
      this.replica = replica;
      this.delegate = delegate;
    }

    @Override
    public void deliver(Bundle bundle, Target target, StageContext context) {
      visit(
          replica,
          context,
          "deliver",
          () -> {
            stallIfAsked(replica);
            delegate.deliver(bundle, target, context);
          });
    }

    @Override
    public void deliverToken(Bundle bundle, Target target, StageContext context) {
      visit(replica, context, "deliverToken", () -> delegate.deliverToken(bundle, target, context));
    }

    @Override
    public void remove(Target target, StageContext context) {
      visit(replica, context, "remove", () -> delegate.remove(target, context));
    }

    @Override
    public boolean restorePrevious(Target target, StageContext context) {
      return visit(
          replica, context, "restorePrevious", () -> delegate.restorePrevious(target, context));
    }

    @Override
    public void discardPrevious(Target target, StageContext context) {
      visit(replica, context, "discardPrevious", () -> delegate.discardPrevious(target, context));
    }

    @Override
    public List<String> describeDelivery(Bundle bundle, Target target) {
      return delegate.describeDelivery(bundle, target);
    }

    @Override
    public List<String> describeRemoval(Target target) {
      return delegate.describeRemoval(target);
    }
  }

  private final class LoggedLauncher implements ProxyLauncher {
    private final String replica;
    private final ProxyLauncher delegate;

    LoggedLauncher(String replica, ProxyLauncher delegate) {
      this.replica = replica;
      this.delegate = delegate;
    }

    @Override
    public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
      return visit(replica, context, "launch", () -> delegate.launch(bundle, target, context));
    }

    @Override
    public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
      return visit(replica, context, "status", () -> delegate.status(bundle, target, context));
    }

    @Override
    public void reloadToken(Bundle bundle, Target target, StageContext context) {
      visit(replica, context, "reloadToken", () -> delegate.reloadToken(bundle, target, context));
    }

    @Override
    public void remove(Bundle bundle, Target target, StageContext context) {
      visit(replica, context, "removeProxy", () -> delegate.remove(bundle, target, context));
    }

    @Override
    public boolean restorePrevious(Bundle bundle, Target target, StageContext context) {
      return visit(
          replica,
          context,
          "restorePreviousProxy",
          () -> delegate.restorePrevious(bundle, target, context));
    }

    @Override
    public void discardPrevious(Bundle bundle, Target target, StageContext context) {
      visit(
          replica,
          context,
          "discardPreviousProxy",
          () -> delegate.discardPrevious(bundle, target, context));
    }

    @Override
    public List<Problem> check(Bundle bundle, Target target) {
      return delegate.check(bundle, target);
    }

    @Override
    public List<String> describeLaunch(Bundle bundle, Target target) {
      return delegate.describeLaunch(bundle, target);
    }

    @Override
    public List<String> describeRemoval(Bundle bundle, Target target) {
      return delegate.describeRemoval(bundle, target);
    }
  }
}
