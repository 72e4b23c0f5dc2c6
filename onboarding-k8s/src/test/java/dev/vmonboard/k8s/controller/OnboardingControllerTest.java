package dev.vmonboard.k8s.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.OnboardingResult.Operation;
import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The controller against the embedded API server (fabric8's mock over real HTTP, CRUD mode): real
 * informers, finalizers, optimistic locking and TokenRequests; core's in-memory transport and
 * launcher stand for the VMs.
 */
class OnboardingControllerTest {

  static final Duration WAIT = Duration.ofSeconds(20);

  private final MovableClock clock = new MovableClock();
  private final InMemoryTransport transport = new InMemoryTransport();
  private final InMemoryProxyLauncher launcher = new InMemoryProxyLauncher();
  private final List<ControllerEvent> events = new CopyOnWriteArrayList<>();
  private final List<OnboardingController> controllers = new ArrayList<>();
  private EmbeddedIstioCluster embedded;
  private KubernetesCluster cluster;

  @BeforeEach
  void start() {
    embedded = EmbeddedIstioCluster.builder().clock(clock).start();
    cluster = embedded.cluster();
    TestEntries.serviceAccount(cluster, "vm-sa");
  }

  @AfterEach
  void stop() {
    controllers.forEach(OnboardingController::close);
    embedded.close();
  }

  /** A controller of namespace vms with fast timings, in-memory VMs and the test's clock. */
  OnboardingController.Builder controller() {
    return OnboardingController.builder()
        .cluster(cluster)
        .bundleFactory(ContainerBundleFactory.create())
        .vmStages(credentials -> VmStages.of(transport, launcher))
        .namespaces(TestEntries.NAMESPACE)
        .clock(clock)
        .tokenLifetime(Duration.ofHours(24))
        .tokenRefreshMargin(Duration.ofHours(6))
        .refreshCheckInterval(Duration.ofMillis(50))
        .requeueBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .pipelineOptions(pipeline -> pipeline.retryPolicy(RetryPolicy.none()))
        .listener(events::add);
  }

  OnboardingController started(OnboardingController.Builder builder) {
    OnboardingController controller = builder.build();
    controllers.add(controller);
    controller.start();
    // The mock API server does not replay what happened between an informer's list and its
    // watch: entries are created only once the watch is open.
    await().atMost(WAIT).until(controller::isWatching);
    return controller;
  }

  @Test
  void onboardsACreatedEntryAfterAddingItsFinalizerAndRecordsTheStatus() {
    started(controller());

    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);
    TestEntries.create(cluster, "not-mine", "10.0.0.2", false);

    OnboardingResult onboarded = awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED);
    Target target = onboarded.target().orElseThrow();
    assertThat(launcher.isRunning(target)).isTrue();
    await()
        .atMost(WAIT)
        .until(() -> TestEntries.annotations(cluster, "vm-1"), a -> a.containsKey(last()));
    Map<String, String> status = TestEntries.annotations(cluster, "vm-1");
    assertThat(status)
        .containsEntry(OnboardingController.LAST_RESULT, "onboard succeeded")
        .containsEntry(BootstrapRecord.BUNDLE_HASH, onboarded.bundleHash().orElseThrow())
        .containsEntry(
            BootstrapRecord.TOKEN_EXPIRES_AT, onboarded.tokenExpiresAt().orElseThrow().toString())
        .containsKey(OnboardingController.LAST_RESULT_AT)
        .doesNotContainKeys(OnboardingController.LAST_ERROR, OnboardingController.FAILURES);
    assertThat(TestEntries.get(cluster, "vm-1").getMetadata().getFinalizers())
        .containsExactly(OnboardingController.FINALIZER);
    String token = token(transport.bundleAt(target).orElseThrow());
    assertThat(token.split("\\.")).hasSize(3);
    assertThat(String.valueOf(TestEntries.get(cluster, "vm-1"))).doesNotContain(token);
    assertThat(events).extracting(String::valueOf).noneMatch(text -> text.contains(token));

    assertThat(TestEntries.get(cluster, "not-mine").getMetadata().getFinalizers()).isEmpty();
    assertThat(transport.deliveries()).extracting(Bundle::workload).hasSize(1);
  }

  @Test
  void deliversAgainWhenTheEntryChangesAndNotWhenOnlyItsStatusDoes() {
    started(controller());
    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);
    OnboardingResult first = awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED);
    awaitIdle();

    TestEntries.edit(
        cluster, "vm-1", entry -> entry.getMetadata().getLabels().put("version", "v2"));

    await()
        .atMost(WAIT)
        .until(() -> results("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED).size() == 2);
    awaitIdle();
    assertThat(transport.deliveries()).hasSize(2);
    String newHash =
        results("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED).get(1).bundleHash().orElseThrow();
    assertThat(newHash).isNotEqualTo(first.bundleHash().orElseThrow());
    await()
        .atMost(WAIT)
        .until(
            () -> TestEntries.annotations(cluster, "vm-1").get(BootstrapRecord.BUNDLE_HASH),
            newHash::equals);
    // The controller's own annotation writes did not make it onboard a third time.
    assertThat(results("vm-1", Operation.ONBOARD, null)).hasSize(2);
  }

  @Test
  void offboardsADeletedEntryThenRemovesItsFinalizer() {
    List<String> seenWhileOffboarded = new CopyOnWriteArrayList<>();
    started(
        controller()
            .listener(
                event -> {
                  if (event instanceof ControllerEvent.Reconciled r
                      && r.result().operation() == Operation.OFFBOARD) {
                    // The entry is still there, held by the finalizer, when the VM is clean.
                    seenWhileOffboarded.add(
                        String.valueOf(
                            TestEntries.get(cluster, "vm-1").getMetadata().getDeletionTimestamp()));
                  }
                }));
    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);
    Target target =
        awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED).target().orElseThrow();
    awaitIdle();

    TestEntries.delete(cluster, "vm-1");

    await().atMost(WAIT).until(() -> TestEntries.get(cluster, "vm-1") == null);
    assertThat(results("vm-1", Operation.OFFBOARD, Outcome.SUCCEEDED)).hasSize(1);
    assertThat(launcher.isRunning(target)).isFalse();
    assertThat(transport.bundleAt(target)).isEmpty();
    assertThat(seenWhileOffboarded).hasSize(1).noneMatch("null"::equals);
    // The controller reports the removal after its write, which is what lets the entry go: the
    // entry can be gone before the event is out.
    await()
        .atMost(WAIT)
        .until(() -> events.stream().anyMatch(ControllerEvent.FinalizerRemoved.class::isInstance));
    assertThat(events).filteredOn(ControllerEvent.FinalizerRemoved.class::isInstance).hasSize(1);
  }

  @Test
  void refreshesTheTokenOnScheduleWithoutRestartingTheProxy() {
    started(controller());
    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);
    OnboardingResult onboarded = awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED);
    Target target = onboarded.target().orElseThrow();
    String firstToken = token(transport.bundleAt(target).orElseThrow());
    awaitIdle();
    clock.advance(Duration.ofHours(11));
    sleep(Duration.ofMillis(300));
    assertThat(transport.tokenDeliveries()).as("not due before half the lifetime").isEmpty();

    clock.advance(Duration.ofHours(8));

    OnboardingResult refreshed = awaitResult("vm-1", Operation.REFRESH_TOKEN, Outcome.SUCCEEDED);
    assertThat(transport.tokenDeliveries()).hasSize(1);
    assertThat(token(transport.bundleAt(target).orElseThrow())).isNotEqualTo(firstToken);
    assertThat(launcher.launchCount(target)).isEqualTo(1);
    assertThat(refreshed.tokenExpiresAt().orElseThrow())
        .isAfter(onboarded.tokenExpiresAt().orElseThrow());
    await()
        .atMost(WAIT)
        .until(
            () -> TestEntries.annotations(cluster, "vm-1"),
            a ->
                "refresh-token succeeded".equals(a.get(OnboardingController.LAST_RESULT))
                    && refreshed
                        .tokenExpiresAt()
                        .orElseThrow()
                        .toString()
                        .equals(a.get(BootstrapRecord.TOKEN_EXPIRES_AT)));
    awaitIdle();
    sleep(Duration.ofMillis(300));
    assertThat(transport.tokenDeliveries()).as("fresh again: no second refresh").hasSize(1);
  }

  @Test
  void requeuesAFailureWithGrowingBackoffAndRecordsIt() {
    transport.failWith(Fault.failTransiently(3, "connection reset"));
    started(controller());

    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);

    awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED);
    List<ControllerEvent.Requeued> requeued =
        events.stream()
            .filter(ControllerEvent.Requeued.class::isInstance)
            .map(ControllerEvent.Requeued.class::cast)
            .toList();
    assertThat(requeued).extracting(ControllerEvent.Requeued::failures).containsExactly(1, 2, 3);
    assertThat(requeued.get(2).delay()).isGreaterThan(requeued.get(0).delay());
    assertThat(requeued.get(0).reason()).contains("vms/vm-1").contains("connection reset");
    assertThat(results("vm-1", Operation.ONBOARD, Outcome.FAILED)).hasSize(3);
    await()
        .atMost(WAIT)
        .until(
            () -> TestEntries.annotations(cluster, "vm-1"),
            a ->
                "onboard succeeded".equals(a.get(OnboardingController.LAST_RESULT))
                    && !a.containsKey(OnboardingController.LAST_ERROR)
                    && !a.containsKey(OnboardingController.FAILURES));
  }

  @Test
  void recordsTheLastErrorWhileAnEntryKeepsFailing() {
    transport.failWith(Fault.failAlways("host unreachable"));
    started(controller());

    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);

    await()
        .atMost(WAIT)
        .until(
            () -> TestEntries.annotations(cluster, "vm-1"),
            a ->
                "onboard failed".equals(a.get(OnboardingController.LAST_RESULT))
                    && a.getOrDefault(OnboardingController.LAST_ERROR, "")
                        .contains("host unreachable")
                    && Integer.parseInt(a.getOrDefault(OnboardingController.FAILURES, "0")) >= 2);
  }

  @Test
  void releasesAnEntryThatIsNoLongerOptedInAndLeavesItsVmAlone() {
    started(controller());
    TestEntries.create(cluster, "vm-1", "10.0.0.1", true);
    Target target =
        awaitResult("vm-1", Operation.ONBOARD, Outcome.SUCCEEDED).target().orElseThrow();

    TestEntries.edit(
        cluster,
        "vm-1",
        entry ->
            entry.getMetadata().getAnnotations().remove(OnboardingController.MANAGED_ANNOTATION));

    await()
        .atMost(WAIT)
        .until(() -> TestEntries.get(cluster, "vm-1").getMetadata().getFinalizers().isEmpty());
    TestEntries.delete(cluster, "vm-1");
    await().atMost(WAIT).until(() -> TestEntries.get(cluster, "vm-1") == null);
    assertThat(launcher.isRunning(target)).isTrue();
    assertThat(results("vm-1", Operation.OFFBOARD, null)).isEmpty();
  }

  @Test
  void refusesABadConfigurationNamingEveryProblem() {
    assertThatThrownBy(
            () ->
                OnboardingController.builder()
                    .concurrency(0)
                    .tokenLifetime(Duration.ofHours(1))
                    .tokenRefreshMargin(Duration.ofHours(2))
                    .build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("cluster")
        .hasMessageContaining("bundleFactory")
        .hasMessageContaining("vmStages")
        .hasMessageContaining("concurrency")
        .hasMessageContaining("tokenRefreshMargin");
    assertThatThrownBy(
            () ->
                Sharding.leases("ns", "lease")
                    .withTimings(
                        Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1)))
        .hasMessageContaining("renewDeadline");
  }

  // --- helpers -------------------------------------------------------------------------------

  private static String last() {
    return OnboardingController.LAST_RESULT;
  }

  OnboardingResult awaitResult(String name, Operation operation, Outcome outcome) {
    await().atMost(WAIT).until(() -> !results(name, operation, outcome).isEmpty());
    return results(name, operation, outcome).get(0);
  }

  List<OnboardingResult> results(String name, Operation operation, Outcome outcome) {
    return ControllerEvents.results(
        events, WorkloadRef.of(TestEntries.NAMESPACE, name), operation, outcome);
  }

  void awaitIdle() {
    await().atMost(WAIT).until(() -> controllers.stream().allMatch(OnboardingController::isIdle));
  }

  static String token(Bundle bundle) {
    return new String(
        bundle.file(bundle.tokenPath()).orElseThrow().content(), StandardCharsets.UTF_8);
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
