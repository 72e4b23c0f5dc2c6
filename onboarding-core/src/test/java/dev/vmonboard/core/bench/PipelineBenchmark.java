package dev.vmonboard.core.bench;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Pushes many workloads through the pipeline with in-memory stages and prints total time,
 * per-workload overhead and peak heap: of the first fleet in a fresh JVM ("cold", while the JIT is
 * still compiling) and of the same fleet after two more rounds ("warm"). Not a test: run it with
 *
 * <pre>
 * mvn -B -q -pl onboarding-core test-compile exec:exec -Dexec.executable=java \
 *   -Dexec.classpathScope=test \
 *   -Dexec.args="-Xmx256m -cp %classpath dev.vmonboard.core.bench.PipelineBenchmark 10000 64"
 * </pre>
 */
public final class PipelineBenchmark {

  private PipelineBenchmark() {}

  /** Arguments: workload count (10000), concurrency (64). */
  public static void main(String[] args) {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    BundleFactory bundles =
        (workload, mesh) ->
            Bundle.builder()
                .workload(workload.ref())
                .addFiles(
                    BundleFile.of(
                        "sidecar.env",
                        0644,
                        ("POD_NAME=" + workload.name()).getBytes(StandardCharsets.UTF_8)))
                .addFiles(
                    BundleFile.of(
                        "istio-ca.pem",
                        0644,
                        mesh.rootCertificate().getBytes(StandardCharsets.UTF_8)))
                .tokenPath("istio-token")
                .launch(
                    ContainerLaunch.builder()
                        .containerName("istio-proxy")
                        .image("docker.io/istio/proxyv2:1.9.0")
                        .build())
                .build();

    // The first fleet of a fresh JVM, measured as it comes (the JIT still compiling), then the
    // same fleet once the JIT has warmed up, which is the pipeline's own cost.
    Measured cold = measure(count, concurrency, bundles);
    for (int round = 0; round < 2; round++) {
      run(count, concurrency, bundles);
    }
    Measured warm = measure(count, concurrency, bundles);
    report("cold", cold, count, concurrency);
    report("warm", warm, count, concurrency);
    if (!cold.result.allSucceeded() || !warm.result.allSucceeded()) {
      System.exit(1);
    }
  }

  private static Measured measure(int count, int concurrency, BundleFactory bundles) {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
    Measured measured = run(count, concurrency, bundles);
    long peakHeap = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peakHeap += pool.getPeakUsage().getUsed();
      }
    }
    return new Measured(measured.result, measured.millis, peakHeap);
  }

  private static void report(String round, Measured measured, int count, int concurrency) {
    System.out.printf(
        "%s: workloads=%d concurrency=%d succeeded=%d total=%d ms per-workload=%.1f us"
            + " peak-heap=%.1f MB (max heap %d MB)%n",
        round,
        count,
        concurrency,
        measured.result.successCount(),
        measured.millis,
        measured.millis * 1000.0 / count,
        measured.peakHeap / 1048576.0,
        Runtime.getRuntime().maxMemory() / 1048576);
  }

  private record Measured(FleetResult result, long millis, long peakHeap) {}

  private static Measured run(int count, int concurrency, BundleFactory bundles) {
    InMemoryStages stages = InMemoryStages.create();
    List<WorkloadRef> refs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Workload vm =
          Workload.builder(WorkloadRef.of("bench", "vm-" + i))
              .address("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255))
              .serviceAccount("vm-sa")
              .putLabels("app", "bench")
              .build();
      stages.registrar().add(vm);
      refs.add(vm.ref());
    }
    OnboardingPipeline pipeline =
        stages.pipelineBuilder(bundles, TestMeshes.typical()).concurrency(concurrency).build();
    long start = System.nanoTime();
    FleetResult result = pipeline.onboardAll(refs);
    return new Measured(result, (System.nanoTime() - start) / 1_000_000, 0);
  }
}
