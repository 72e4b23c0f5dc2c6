package dev.vmonboard.k8s.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shard Leases of several replicas against the embedded API server, stepped by hand on a clock
 * the test moves: no thread, no sleep, so every decision that depends on time is checked exactly.
 */
class ShardLeasesTest {

  private static final Duration LEASE = Duration.ofSeconds(15);
  private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
  private static final int SHARDS = 4;

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private EmbeddedIstioCluster embedded;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    embedded = EmbeddedIstioCluster.start();
    client = embedded.client();
  }

  @AfterEach
  void stop() {
    embedded.close();
  }

  /** The controller's side as the test sees it: what works, what was stopped and how. */
  private static final class Work implements ShardLeases.Work {
    final Set<Integer> working = new TreeSet<>();
    final Set<Integer> busy = new TreeSet<>();
    final List<String> log = new ArrayList<>();

    @Override
    public synchronized void start(int shard) {
      working.add(shard);
      log.add("start " + shard);
    }

    @Override
    public synchronized void stop(int shard, boolean interrupt) {
      working.remove(shard);
      log.add((interrupt ? "interrupt " : "stop ") + shard);
    }

    @Override
    public synchronized boolean busy(int shard) {
      return busy.contains(shard);
    }
  }

  private record Replica(String name, ShardLeases leases, Work work) {}

  private Replica replica(String name) {
    return replica(name, SHARDS);
  }

  private Replica replica(String name, int shards) {
    Work work = new Work();
    Sharding sharding =
        Sharding.leases("vmonboard", "ctl")
            .withIdentity(name)
            .withShards(shards)
            .withTimings(LEASE, RENEW_DEADLINE, Duration.ofSeconds(2));
    return new Replica(name, new ShardLeases(client, sharding, work, now::get), work);
  }

  private void advance(Duration duration) {
    now.addAndGet(duration.toNanos());
  }

  @Test
  void aSingleReplicaTakesEveryShardOnceItsMembershipIsVisible() {
    Replica a = replica("a");

    a.leases().step();
    assertThat(a.work().working).as("first step: membership only").isEmpty();
    a.leases().step();

    assertThat(a.work().working).containsExactly(0, 1, 2, 3);
    assertThat(holders()).containsOnlyKeys(0, 1, 2, 3).containsValues("a");
    assertThat(lease("ctl-member-a").getSpec().getHolderIdentity()).isEqualTo("a");
    assertThat(lease("ctl-shard-0").getMetadata().getAnnotations())
        .containsEntry(ShardLeases.SHARDS_ANNOTATION, "4");
  }

  @Test
  void aNewcomerGetsItsFairShareOnceTheHoldersRunsOnThoseShardsAreOver() {
    Replica a = replica("a");
    a.leases().step();
    a.leases().step();
    Replica b = replica("b");
    b.leases().step();
    b.leases().step();
    assertThat(b.work().working).as("nothing free yet").isEmpty();

    a.work().busy.addAll(Set.of(2, 3));
    a.leases().step();
    assertThat(a.work().working).as("lets two go, stops handing them out").containsExactly(0, 1);
    assertThat(a.work().log).contains("stop 2", "stop 3").doesNotContain("interrupt 2");
    a.leases().step();
    assertThat(holders()).as("runs in flight: not released").containsEntry(2, "a");
    b.leases().step();
    assertThat(b.work().working).isEmpty();

    a.work().busy.clear();
    a.leases().step();
    b.leases().step();

    assertThat(b.work().working).containsExactly(2, 3);
    assertThat(holders()).isEqualTo(Map.of(0, "a", 1, "a", 2, "b", 3, "b"));
    a.leases().step();
    b.leases().step();
    assertThat(a.work().working).as("stable").containsExactly(0, 1);
    assertThat(b.work().working).containsExactly(2, 3);
  }

  @Test
  void aLostReplicaStopsBeforeItsLeasesExpireAndIsReplacedOnlyAfterTheLeaseDuration() {
    Replica a = replica("a");
    Replica b = replica("b");
    balance(a, b);
    List<Integer> lostShards = List.copyOf(a.work().working);
    a.leases().step(); // a's last renewal, seen by b right after
    b.leases().step();

    // a can no longer reach the API server: it does not step any more.
    advance(RENEW_DEADLINE.minusMillis(1));
    a.leases().enforceDeadlines();
    b.leases().step();
    assertThat(a.work().working).as("within the renew deadline").isNotEmpty();
    advance(Duration.ofMillis(1));
    a.leases().enforceDeadlines();
    assertThat(a.work().working).as("renew deadline passed").isEmpty();
    assertThat(a.work().log).contains("interrupt " + lostShards.get(0));

    b.leases().step();
    assertThat(b.work().working).as("a's Leases have not expired yet").hasSize(2);
    advance(LEASE.minus(RENEW_DEADLINE).minusMillis(1));
    b.leases().step();
    assertThat(b.work().working).as("a's Leases have not expired yet").hasSize(2);
    advance(Duration.ofMillis(1));
    b.leases().step();

    assertThat(b.work().working).containsExactly(0, 1, 2, 3);
    assertThat(holders()).containsValues("b").doesNotContainValue("a");
  }

  @Test
  void aClosingReplicaReleasesItsShardsForAnImmediateTakeover() {
    Replica a = replica("a");
    Replica b = replica("b");
    balance(a, b);

    a.leases().beginClosing();
    a.leases().close(true);
    b.leases().step();

    assertThat(b.work().working).containsExactly(0, 1, 2, 3);
    assertThat(leaseNames()).doesNotContain("ctl-member-a").contains("ctl-member-b");
  }

  @Test
  void aReplicaWithRunsStillInFlightLeavesItsLeasesToExpire() {
    Replica a = replica("a");
    Replica b = replica("b");
    balance(a, b);

    a.leases().close(false);
    b.leases().step();

    assertThat(b.work().working).hasSize(2);
    advance(LEASE);
    b.leases().step();
    assertThat(b.work().working).hasSize(4);
  }

  @Test
  void twoReplicasNeverBothTakeAShardFromTheSameView() {
    Replica a = replica("a");
    a.leases().step();
    a.leases().step();
    Lease seenByB = lease("ctl-shard-0");
    a.leases().step(); // renewed: seenByB is stale now

    Lease stolen =
        new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder(seenByB)
            .editSpec()
            .withHolderIdentity("b")
            .endSpec()
            .build();
    assertThatThrownBy(() -> client.leases().inNamespace("vmonboard").resource(stolen).update())
        .isInstanceOfSatisfying(
            io.fabric8.kubernetes.client.KubernetesClientException.class,
            e -> assertThat(e.getCode()).isEqualTo(409));
    assertThat(holders()).containsEntry(0, "a");
  }

  @Test
  void replicasThatDisagreeOnTheShardCountWorkNoShard() {
    Replica a = replica("a");
    a.leases().step();
    a.leases().step();
    Replica other = replica("other", 8);
    other.leases().step();
    other.leases().step();
    a.leases().step();

    assertThat(a.work().working).isEmpty();
    assertThat(other.work().working).isEmpty();
  }

  @Test
  void entriesSpreadEvenlyOverTheShardsAndTheirRefreshPoints() {
    int[] perShard = new int[16];
    double[] fractions = new double[10];
    IntStream.range(0, 16_000)
        .mapToObj(i -> EntryHash.of("vms/vm-" + i, 16))
        .forEach(
            hash -> {
              perShard[hash.shard()]++;
              fractions[(int) (hash.fraction() * 10)]++;
            });
    assertThat(IntStream.of(perShard).boxed())
        .allSatisfy(count -> assertThat(count).isBetween(850, 1150));
    assertThat(java.util.Arrays.stream(fractions).boxed())
        .allSatisfy(count -> assertThat(count).isBetween(1400.0, 1800.0));
    assertThat(EntryHash.of("vms/vm-1", 16)).isEqualTo(EntryHash.of("vms/vm-1", 16));
  }

  @Test
  void membershipLeaseNamesAreValidAndDistinct() {
    Sharding base = Sharding.leases("vmonboard", "ctl");
    assertThat(ShardLeases.memberLeaseName(base.withIdentity("pod-1")))
        .isEqualTo("ctl-member-pod-1");
    String odd = ShardLeases.memberLeaseName(base.withIdentity("Pod_1"));
    String other = ShardLeases.memberLeaseName(base.withIdentity("pod_1"));
    assertThat(odd).matches("ctl-member-pod-1-[0-9a-f]+").isNotEqualTo(other);
    assertThat(ShardLeases.memberLeaseName(base.withIdentity("x".repeat(400))))
        .hasSizeLessThan(254);
  }

  @Test
  void refusesUnsafeTimingsAndBadCounts() {
    Sharding base = Sharding.leases("vmonboard", "ctl");
    assertThatThrownBy(
            () ->
                base.withTimings(
                    Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("renewDeadline");
    assertThatThrownBy(() -> base.withShards(0)).hasMessageContaining("shards");
    assertThatThrownBy(() -> Sharding.leases("vmonboard", "Not_A_Name"))
        .hasMessageContaining("name");
  }

  /** Steps two replicas until each works half the shards. */
  private void balance(Replica a, Replica b) {
    for (int round = 0; round < 5; round++) {
      a.leases().step();
      b.leases().step();
    }
    assertThat(a.work().working).hasSize(2);
    assertThat(b.work().working).hasSize(2);
  }

  private Map<Integer, String> holders() {
    return LeaseHolders.of(client, "ctl");
  }

  private Lease lease(String name) {
    return client.leases().inNamespace("vmonboard").withName(name).get();
  }

  private List<String> leaseNames() {
    return client.leases().inNamespace("vmonboard").list().getItems().stream()
        .map(lease -> lease.getMetadata().getName())
        .toList();
  }
}
