package dev.vmonboard.k8s.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three sharded controllers in one JVM on the embedded API server, each with its own client,
 * sharing in-memory VMs: every entry onboarded, no two calls on one VM at the same time (from the
 * VMs' call log with start and end times), and a replica stuck mid-run then stopped has its shards
 * and unfinished entries taken over. Correctness never depends on timing: the stuck replica is made
 * to hang (its deliveries block until interrupted), and every wait is on a condition with a
 * generous bound.
 */
class ShardingTest {

  /**
   * 300 in the normal suite; the 3,000 with {@code -Dsharding.entries=3000} (minutes on a
   * loaded 2-core machine: the mock API server scans every stored object on every request).
   */
  private static final int ENTRIES = Integer.getInteger("sharding.entries", 300);

  private static final int SHARDS = 12;
  private static final Duration WAIT = Duration.ofSeconds(180);

  private final VmVisits vms = new VmVisits();
  private final InMemoryTransport transport = new InMemoryTransport();
  private final InMemoryProxyLauncher launcher = new InMemoryProxyLauncher();
  private final ConcurrentLinkedQueue<Reconcile> reconciles = new ConcurrentLinkedQueue<>();
  private final Map<String, OnboardingController> replicas = new LinkedHashMap<>();
  private final List<KubernetesClient> clients = new ArrayList<>();
  private EmbeddedIstioCluster embedded;
  private KubernetesCluster cluster;

  /** A pipeline run's end, by which replica. */
  private record Reconcile(
      String replica, WorkloadRef workload, OnboardingResult result, Instant at) {}

  @BeforeEach
  void start() {
    embedded = EmbeddedIstioCluster.start();
    cluster = embedded.cluster();
    TestEntries.serviceAccount(cluster, "vm-sa");
  }

  @AfterEach
  void stop() {
    replicas.values().forEach(OnboardingController::close);
    clients.forEach(KubernetesClient::close);
    embedded.close();
  }

  private OnboardingController replica(String name) {
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(Config.empty())
                    .withMasterUrl(embedded.url())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .withHttpClientFactory(new JdkHttpClientFactory())
            .build();
    clients.add(client);
    OnboardingController controller =
        OnboardingController.builder()
            .cluster(KubernetesCluster.of(client))
            .bundleFactory(ContainerBundleFactory.create())
            .vmStages(credentials -> vms.stages(name, transport, launcher))
            .namespaces(TestEntries.NAMESPACE)
            .concurrency(4)
            .sharding(
                Sharding.leases("vmonboard", "vmonboard-controller")
                    .withIdentity(name)
                    .withShards(SHARDS)
                    .withTimings(
                        Duration.ofSeconds(10), Duration.ofSeconds(7), Duration.ofSeconds(1)))
            .requeueBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
            .pipelineOptions(pipeline -> pipeline.retryPolicy(RetryPolicy.none()))
            .listener(
                event -> {
                  if (event instanceof ControllerEvent.Reconciled r) {
                    reconciles.add(new Reconcile(name, r.workload(), r.result(), r.at()));
                  }
                })
            .build();
    replicas.put(name, controller);
    return controller;
  }

  @Test
  void threeReplicasShareTheEntriesAndTakeOverTheShardsOfOneStoppedMidRun() throws Exception {
    createEntries();
    vms.stallAfter("b", ENTRIES / 50);
    OnboardingController a = replica("a");
    OnboardingController b = replica("b");
    OnboardingController c = replica("c");
    replicas.values().forEach(OnboardingController::start);

    // b works until its deliveries hang; then it is stopped, with runs in flight and entries of
    // its shards not yet onboarded.
    await().atMost(WAIT).until(() -> vms.stalled("b") >= 1);
    List<Integer> shardsOfB = b.workingShards();
    assertThat(shardsOfB).isNotEmpty();
    Instant stoppedAt = Instant.now();
    b.close();
    replicas.remove("b");

    await().atMost(WAIT).until(() -> succeeded().size() == ENTRIES);
    await().atMost(WAIT).pollInterval(Duration.ofSeconds(2)).until(() -> onboarded() == ENTRIES);

    assertThat(vms.overlaps()).as("calls on one VM at the same time").isEmpty();
    Map<String, Long> byReplica =
        reconciles.stream()
            .filter(r -> r.result().isSuccess())
            .collect(Collectors.groupingBy(Reconcile::replica, Collectors.counting()));
    assertThat(byReplica).containsOnlyKeys("a", "b", "c");
    assertThat(vms.visits())
        .as("b's hung deliveries")
        .anyMatch(v -> v.replica().equals("b") && v.operation().equals("deliver"));

    // b's shards moved to a and c; its unfinished entries were onboarded by them.
    await()
        .atMost(WAIT)
        .until(() -> holders().values().stream().allMatch(h -> h.equals("a") || h.equals("c")));
    Map<Integer, String> holders = holders();
    assertThat(holders).hasSize(SHARDS);
    assertThat(shardsOfB).allSatisfy(shard -> assertThat(holders.get(shard)).isIn("a", "c"));
    Set<Integer> taken = new HashSet<>(a.workingShards());
    taken.addAll(c.workingShards());
    assertThat(taken).containsAll(shardsOfB);
    assertThat(b.workingShards()).isEmpty();
    Set<WorkloadRef> finishedByB =
        vms.visits().stream()
            .filter(v -> v.replica().equals("b") && v.operation().equals("launch"))
            .map(VmVisits.Visit::workload)
            .collect(Collectors.toSet());
    List<Reconcile> takenOver =
        reconciles.stream()
            .filter(r -> !r.replica().equals("b") && r.at().isAfter(stoppedAt))
            .filter(r -> shardsOfB.contains(EntryHash.of(r.workload().toString(), SHARDS).shard()))
            .filter(r -> r.result().isSuccess())
            .filter(r -> !finishedByB.contains(r.workload()))
            .toList();
    assertThat(takenOver).as("entries of b's shards that b had not finished").isNotEmpty();
  }

  private void createEntries() throws Exception {
    ExecutorService creators = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> created = new ArrayList<>();
      IntStream.range(0, ENTRIES)
          .forEach(
              i ->
                  created.add(
                      creators.submit(
                          () ->
                              TestEntries.create(
                                  cluster,
                                  "vm-" + i,
                                  "10." + (i / 65536) + "." + (i / 256 % 256) + "." + (i % 256),
                                  true))));
      for (Future<?> future : created) {
        future.get();
      }
    } finally {
      creators.shutdown();
    }
  }

  private Set<WorkloadRef> succeeded() {
    return reconciles.stream()
        .filter(r -> r.result().isSuccess())
        .map(Reconcile::workload)
        .collect(Collectors.toSet());
  }

  /**
   * Entries whose status says onboarded ("unchanged": the replica that took the shard over found
   * the VM up to date, its first owner having been stopped before it recorded the status).
   */
  private long onboarded() {
    return cluster.workloadEntries().inNamespace(TestEntries.NAMESPACE).list().getItems().stream()
        .map(GenericKubernetesResource::getMetadata)
        .filter(m -> m.getAnnotations() != null)
        .filter(m -> !m.getAnnotations().containsKey(OnboardingController.LAST_ERROR))
        .filter(
            m ->
                List.of("onboard succeeded", "onboard unchanged")
                    .contains(m.getAnnotations().get(OnboardingController.LAST_RESULT)))
        .count();
  }

  private Map<Integer, String> holders() {
    return LeaseHolders.of(cluster.client(), "vmonboard-controller");
  }
}
