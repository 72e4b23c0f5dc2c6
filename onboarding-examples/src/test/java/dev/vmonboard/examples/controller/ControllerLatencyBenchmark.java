package dev.vmonboard.examples.controller;

import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.k8s.controller.ControllerEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark #3: the time from a WorkloadEntry's creation to its proxy reported ready on an embedded
 * VM, through the controller (informer event, finalizer, mesh discovery, TokenRequest, SSH
 * delivery, container start, readiness probe, status). One VM per entry, created one after the
 * other; prints each time and the median. Not a test: run it with
 *
 * <pre>
 * mvn -B -pl onboarding-examples -am test-compile -Dcontroller-benchmark [-Dbenchmark.args=20]
 * </pre>
 *
 * <p>The first two entries warm the JVM up and are not counted.
 */
public final class ControllerLatencyBenchmark {

  private ControllerLatencyBenchmark() {}

  /** Arguments: {@code [entries (20)]}. */
  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int warmUp = 2;
    Map<WorkloadRef, Long> ready = new ConcurrentHashMap<>();
    Map<WorkloadRef, OnboardingResult> results = new ConcurrentHashMap<>();
    Map<WorkloadRef, CountDownLatch> latches = new ConcurrentHashMap<>();
    try (ControllerDemo demo =
        ControllerDemo.start(
            count + warmUp,
            event -> {
              if (event instanceof ControllerEvent.Reconciled r
                  && r.result().operation() == OnboardingResult.Operation.ONBOARD
                  && r.result().outcome() == OnboardingResult.Outcome.SUCCEEDED
                  && r.result().proxyStatus().map(s -> s.isReady()).orElse(false)) {
                ready.putIfAbsent(r.workload(), System.nanoTime());
                results.putIfAbsent(r.workload(), r.result());
                CountDownLatch latch = latches.get(r.workload());
                if (latch != null) {
                  latch.countDown();
                }
              }
            })) {
      demo.waitFor("the controller to become active", demo.controller()::isActive);
      List<Double> millis = new ArrayList<>();
      for (int i = 0; i < count + warmUp; i++) {
        String name = "vm-" + i;
        WorkloadRef ref = WorkloadRef.of(ControllerDemo.NAMESPACE, name);
        CountDownLatch latch = new CountDownLatch(1);
        latches.put(ref, latch);
        long start = System.nanoTime();
        demo.createEntry(name, i);
        if (!latch.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException(name + " not ready within 30 s");
        }
        double took = (ready.get(ref) - start) / 1e6;
        if (i >= warmUp) {
          millis.add(took);
        }
        OnboardingResult result = results.get(ref);
        StringBuilder stages = new StringBuilder();
        result
            .stages()
            .forEach(
                stage ->
                    stages
                        .append(' ')
                        .append(stage.stage())
                        .append('=')
                        .append(stage.duration().toMillis()));
        System.out.printf(
            Locale.ROOT,
            "%s ready after %.0f ms%s: before the pipeline %.0f ms, pipeline %d ms:%s%n",
            name,
            took,
            i < warmUp ? " (warm-up)" : "",
            took - result.duration().toMillis(),
            result.duration().toMillis(),
            stages);
        demo.waitFor("the controller to settle", demo.controller()::isIdle);
      }
      List<Double> sorted = new ArrayList<>(millis);
      sorted.sort(Double::compare);
      double median =
          sorted.size() % 2 == 1
              ? sorted.get(sorted.size() / 2)
              : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
      System.out.printf(
          Locale.ROOT,
          "creation to ready proxy, %d entries: median %.0f ms, min %.0f ms, max %.0f ms%n",
          sorted.size(),
          median,
          sorted.get(0),
          sorted.get(sorted.size() - 1));
    }
  }
}
