package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.TestMeshes;
import java.util.ArrayList;
import java.util.List;

/**
 * Times building container-style and systemd-style bundles, one thread, workloads prepared
 * beforehand. Not a test (timings on a shared machine are not assertions); run it with
 *
 * <pre>
 * mvn -B -q -pl onboarding-core test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=dev.vmonboard.core.bundle.BundleBenchmark [-Dexec.args="10000 5"]
 * </pre>
 *
 * <p>Arguments: bundles per style (10000) and measured rounds (5), after two warm-up rounds. Each
 * workload has its own name and address, labels, a stats annotation and a {@code
 * proxy.istio.io/config}; the mesh has {@code proxyMetadata} and a mesh-expansion override, so
 * every rule runs (YAML parsing, merging, JSON, hashing, checks).
 */
public final class BundleBenchmark {

  private BundleBenchmark() {}

  /** Builds {@code args[0]} bundles of each style, {@code args[1]} times, and prints the times. */
  public static void main(String[] args) {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    MeshSnapshot mesh =
        MeshSnapshot.builder()
            .from(TestMeshes.typical())
            .meshConfig(
                IstioConfig.parseMeshConfig(
                    "defaultConfig:\n  proxyMetadata:\n    DNS_AGENT: \"\"\n", "benchmark mesh"))
            .meshExpansionProxyConfig(
                IstioConfig.parseProxyConfig("drainDuration: 30s\n", "benchmark expansion"))
            .build();
    List<Workload> entries = new ArrayList<>(count);
    List<Workload> groups = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      entries.add(entry(i));
      groups.add(group(i));
    }
    BundleFactory container = ContainerBundleFactory.create();
    BundleFactory systemd = SystemdBundleFactory.create();
    for (int warmUp = 0; warmUp < 2; warmUp++) {
      time(container, entries, mesh);
      time(systemd, groups, mesh);
    }
    for (int round = 1; round <= rounds; round++) {
      long containerNanos = time(container, entries, mesh);
      long systemdNanos = time(systemd, groups, mesh);
      System.out.printf(
          "round %d: %d container-style bundles in %d ms (%.1f us each),"
              + " %d systemd-style bundles in %d ms (%.1f us each)%n",
          round,
          count,
          containerNanos / 1_000_000,
          containerNanos / 1000.0 / count,
          count,
          systemdNanos / 1_000_000,
          systemdNanos / 1000.0 / count);
    }
  }

  private static long time(BundleFactory factory, List<Workload> workloads, MeshSnapshot mesh) {
    long bytes = 0;
    long start = System.nanoTime();
    for (Workload workload : workloads) {
      Bundle bundle = factory.build(workload, mesh);
      for (BundleFile file : bundle.files()) {
        bytes += file.size();
      }
    }
    long elapsed = System.nanoTime() - start;
    if (bytes == 0) {
      throw new IllegalStateException("no bundle was built");
    }
    return elapsed;
  }

  private static Workload entry(int i) {
    return Workload.builder(WorkloadRef.of("bench", "vm-" + i))
        .address("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255))
        .serviceAccount("vm-sa")
        .network("vm-network")
        .putLabels("app", "bench")
        .putLabels("version", "v" + (i % 3))
        .putAnnotations("sidecar.istio.io/statsInclusionRegexps", "http.*")
        .putAnnotations("proxy.istio.io/config", "concurrency: 2\nproxyMetadata:\n  ROLE: vm\n")
        .build();
  }

  private static Workload group(int i) {
    return Workload.builder(WorkloadRef.of("bench", "group-" + i))
        .kind(Workload.Kind.WORKLOAD_GROUP)
        .autoRegister(true)
        .serviceAccount("vm-sa")
        .network("vm-network")
        .putLabels("app", "bench")
        .putPorts("http", 8080)
        .readinessProbe(ReadinessProbe.httpGet("/ready", 8080).periodSeconds(5).build())
        .putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  ROLE: vm\n")
        .build();
  }
}
