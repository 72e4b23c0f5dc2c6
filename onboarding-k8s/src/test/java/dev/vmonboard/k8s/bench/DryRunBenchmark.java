package dev.vmonboard.k8s.bench;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark #2: the dry-run plan of a fleet of WorkloadEntries against the embedded API server
 * (fabric8's mock over HTTP, in this JVM), through the real Kubernetes stages: the registrar lists
 * and resolves every entry, mesh discovery reads the Istio installation, the container bundle
 * factory builds every bundle, and nothing is issued, written or started. Prints the wall time of
 * {@code pipeline.dryRun().onboardAll(...)} and the JVM's peak heap during it (the mock server's
 * store of the entries included). Not a test: run it with
 *
 * <pre>
 * mvn -B -pl onboarding-k8s -am test-compile -Pdry-run-benchmark [-Dbenchmark.args="10000 16"]
 * </pre>
 *
 * <p>Arguments: {@code [entries (10000)] [concurrency (16)]}.
 */
public final class DryRunBenchmark {

  private DryRunBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      long seeding = System.nanoTime();
      seed(cluster, count);
      System.out.printf(
          Locale.ROOT,
          "seeded %d WorkloadEntries in %.1f s%n",
          count,
          (System.nanoTime() - seeding) / 1e9);
      OnboardingPipeline pipeline =
          OnboardingPipeline.builder()
              .registrar(KubernetesRegistrar.create(cluster.cluster()))
              .tokenIssuer(ServiceAccountTokenIssuer.create(cluster.cluster()))
              .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
              .bundleFactory(ContainerBundleFactory.create())
              .transport(new InMemoryTransport())
              .launcher(new InMemoryProxyLauncher())
              .concurrency(concurrency)
              .build()
              .dryRun();
      // Warm-up on one namespace of a few entries: the JIT, the HTTP connections.
      pipeline.onboardAll(WorkloadSelector.inNamespace("warm-up"));
      System.gc();
      resetPeaks();

      long start = System.nanoTime();
      FleetResult plan = pipeline.onboardAll(WorkloadSelector.inNamespace("vms"));
      double seconds = (System.nanoTime() - start) / 1e9;

      long planned =
          plan.results().stream()
              .filter(r -> r.outcome() == OnboardingResult.Outcome.PLANNED)
              .count();
      System.out.printf(
          Locale.ROOT,
          "dry run of %d entries (concurrency %d): %.2f s, %.2f ms per entry, %d planned, %d"
              + " failed; peak heap %d MB (max heap %d MB)%n",
          plan.results().size(),
          concurrency,
          seconds,
          seconds * 1000 / Math.max(1, plan.results().size()),
          planned,
          plan.failures().size(),
          peakHeapBytes() / (1024 * 1024),
          Runtime.getRuntime().maxMemory() / (1024 * 1024));
      if (!plan.failures().isEmpty()) {
        System.out.println("first failure: " + plan.failures().get(0));
      }
    }
  }

  private static void seed(EmbeddedIstioCluster cluster, int count) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < count; i++) {
      int n = i;
      pool.execute(() -> create(cluster, "vms", n));
    }
    for (int i = 0; i < 10; i++) {
      int n = i;
      pool.execute(() -> create(cluster, "warm-up", n));
    }
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.MINUTES);
  }

  private static void create(EmbeddedIstioCluster cluster, String namespace, int n) {
    GenericKubernetesResource entry = new GenericKubernetesResource();
    entry.setApiVersion("networking.istio.io/v1");
    entry.setKind("WorkloadEntry");
    entry.setMetadata(
        new ObjectMetaBuilder()
            .withName(String.format(Locale.ROOT, "vm-%05d", n))
            .withNamespace(namespace)
            .build());
    entry.setAdditionalProperty(
        "spec",
        Map.of(
            "address",
            "10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255),
            "serviceAccount",
            "vm-sa",
            "labels",
            Map.of("app", "backend", "version", "v1")));
    cluster.cluster().workloadEntries().inNamespace(namespace).resource(entry).create();
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  private static long peakHeapBytes() {
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
