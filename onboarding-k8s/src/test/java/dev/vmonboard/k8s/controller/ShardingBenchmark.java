package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesCluster;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Benchmark: the sharded controller with 1, 2 and 3 replicas in this JVM on the embedded API
 * server, each replica with the same concurrency, in-memory VMs that take a fixed time per delivery
 * (100 ms by default). For each replica count: a fresh cluster seeded with the entries, the
 * replicas started together, and the time until every entry is onboarded; the throughput over the
 * whole run and between 10% and 90% of the entries (leaving out the start, when replicas join and
 * balance, and the tail). Then, with 3 replicas running, the time until the shards of a replica cut
 * off from the API server (its connection closed for good, as a crash or a network split) are all
 * held by the two others, and the same for a replica that stops normally (it releases its Leases).
 * Not a test: run it with
 *
 * <pre>
 * mvn -B -pl onboarding-k8s -am test-compile -Psharding-benchmark [-Dbenchmark.args="600 4 100"]
 * </pre>
 *
 * <p>Arguments: {@code [entries (600)] [concurrency per replica (4)] [ms per VM (100)]}. Leases: 12
 * shards, the defaults' timings (lease 15 s, renew deadline 10 s, retry 2 s).
 */
public final class ShardingBenchmark {

  private static final int SHARDS = 12;
  private static final Duration WAIT = Duration.ofMinutes(10);

  private final int entries;
  private final int concurrency;
  private final Duration perVm;

  private ShardingBenchmark(int entries, int concurrency, Duration perVm) {
    this.entries = entries;
    this.concurrency = concurrency;
    this.perVm = perVm;
  }

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int entries = args.length > 0 ? Integer.parseInt(args[0]) : 600;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int ms = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    ShardingBenchmark benchmark =
        new ShardingBenchmark(entries, concurrency, Duration.ofMillis(ms));
    System.out.printf(
        Locale.ROOT,
        "%d entries, %d shards, concurrency %d per replica, %d ms per VM, %d cores%n",
        entries,
        SHARDS,
        concurrency,
        ms,
        Runtime.getRuntime().availableProcessors());
    double[] steady = new double[4];
    for (int replicas = 1; replicas <= 3; replicas++) {
      steady[replicas] = benchmark.throughput(replicas);
    }
    System.out.printf(
        Locale.ROOT,
        "steady throughput vs 1 replica: 2 replicas x%.2f, 3 replicas x%.2f%n",
        steady[2] / steady[1],
        steady[3] / steady[1]);
    benchmark.takeover(true);
    benchmark.takeover(false);
  }

  /** The run of {@code replicas} replicas; returns the steady throughput (entries per second). */
  private double throughput(int replicas) throws Exception {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      seed(cluster);
      Map<WorkloadRef, Long> done = new ConcurrentHashMap<>();
      List<Replica> started = new ArrayList<>();
      long start = System.nanoTime();
      try {
        for (int i = 0; i < replicas; i++) {
          started.add(new Replica(cluster, "r" + i, done, false));
        }
        started.forEach(r -> r.controller.start());
        await(() -> done.size() >= entries);
        long end = System.nanoTime();
        List<Long> times = new ArrayList<>(done.values());
        times.sort(null);
        long tenth = times.get(entries / 10);
        long ninetieth = times.get(entries * 9 / 10 - 1);
        double steady = (entries * 8 / 10.0) / ((ninetieth - tenth) / 1e9);
        System.out.printf(
            Locale.ROOT,
            "%d replica%s: %d entries in %.1f s (%.1f entries/s overall), %.1f entries/s"
                + " between 10%% and 90%% (ideal %.1f), shards %s%n",
            replicas,
            replicas == 1 ? "" : "s",
            entries,
            (end - start) / 1e9,
            entries / ((end - start) / 1e9),
            steady,
            replicas * concurrency * 1000.0 / perVm.toMillis(),
            started.stream().map(r -> r.controller.workingShards().size()).toList());
        return steady;
      } finally {
        for (Replica replica : started) {
          replica.close();
        }
      }
    }
  }

  /**
   * Three replicas; one is cut off from the API server ({@code crash}) or stopped; the time until
   * the two others hold every shard.
   */
  private void takeover(boolean crash) throws Exception {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      List<Replica> started = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          started.add(new Replica(cluster, "r" + i, new ConcurrentHashMap<>(), crash));
        }
        started.forEach(r -> r.controller.start());
        await(
            () ->
                started.stream().allMatch(r -> r.controller.workingShards().size() == SHARDS / 3));
        Replica lost = started.get(0);
        List<Integer> itsShards = lost.controller.workingShards();
        long at = System.nanoTime();
        if (crash) {
          lost.proxy.close();
        } else {
          lost.controller.close();
        }
        List<Replica> others = started.subList(1, 3);
        long[] stopped = {0};
        await(
            () -> {
              if (stopped[0] == 0 && lost.controller.workingShards().isEmpty()) {
                stopped[0] = System.nanoTime();
              }
              Set<Integer> held = new HashSet<>();
              others.forEach(r -> held.addAll(r.controller.workingShards()));
              return held.size() == SHARDS;
            });
        double seconds = (System.nanoTime() - at) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "%s replica's shards %s held by the two others after %.1f s (lease 15 s, renew"
                + " deadline 10 s, retry 2 s)%s%n",
            crash ? "a cut-off" : "a stopped",
            itsShards,
            seconds,
            crash
                ? "; it had stopped working them after "
                    + String.format(Locale.ROOT, "%.1f s", (stopped[0] - at) / 1e9)
                : "");
      } finally {
        for (Replica replica : started) {
          replica.close();
        }
      }
    }
  }

  /** One replica: its own client (through a proxy that can cut it off, if asked) and controller. */
  private final class Replica implements AutoCloseable {
    final OnboardingController controller;
    final KubernetesClient client;
    final DroppingProxy proxy;

    Replica(EmbeddedIstioCluster cluster, String name, Map<WorkloadRef, Long> done, boolean proxied)
        throws Exception {
      int port = URI.create(cluster.url()).getPort();
      proxy = proxied ? new DroppingProxy(port) : null;
      client =
          new KubernetesClientBuilder()
              .withConfig(
                  new ConfigBuilder(Config.empty())
                      .withMasterUrl("http://127.0.0.1:" + (proxied ? proxy.port() : port) + "/")
                      .withRequestRetryBackoffLimit(0)
                      .withRequestTimeout(5_000)
                      .withConnectionTimeout(2_000)
                      .build())
              .withHttpClientFactory(new JdkHttpClientFactory())
              .build();
      InMemoryTransport transport = new InMemoryTransport();
      transport.failWith(Fault.slow(perVm));
      controller =
          OnboardingController.builder()
              .cluster(KubernetesCluster.of(client))
              .bundleFactory(ContainerBundleFactory.create())
              .vmStages(credentials -> VmStages.of(transport, new InMemoryProxyLauncher()))
              .namespaces("vms")
              .concurrency(concurrency)
              .sharding(
                  Sharding.leases("vmonboard", "vmonboard-controller")
                      .withIdentity(name)
                      .withShards(SHARDS))
              .pipelineOptions(pipeline -> pipeline.retryPolicy(RetryPolicy.none()))
              .listener(
                  event -> {
                    if (event instanceof ControllerEvent.Reconciled r && r.result().isSuccess()) {
                      done.putIfAbsent(r.workload(), System.nanoTime());
                    }
                  })
              .build();
    }

    @Override
    public void close() throws java.io.IOException {
      controller.close();
      client.close();
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  private void seed(EmbeddedIstioCluster cluster) throws Exception {
    TestEntries.serviceAccount(cluster.cluster(), "vm-sa");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> created = new ArrayList<>();
      for (int i = 0; i < entries; i++) {
        int n = i;
        created.add(
            pool.submit(
                () ->
                    TestEntries.create(
                        cluster.cluster(),
                        "vm-" + n,
                        "10." + (n / 65536) + "." + (n / 256 % 256) + "." + (n % 256),
                        true)));
      }
      for (Future<?> future : created) {
        future.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not reached within " + WAIT);
      }
      Thread.sleep(20);
    }
  }
}
