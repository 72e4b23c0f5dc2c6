package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A failed LAUNCH after a delivery: the ROLLBACK stage puts back the previous bundle and proxy, and
 * the run still fails at LAUNCH saying so; a successful LAUNCH drops the copies kept for it.
 */
class RollbackTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");

  /** The minimal bundle plus {@code version.txt}: the workload's {@code version} label. */
  private static final BundleFactory VERSIONED =
      (workload, mesh) ->
          Bundle.builder()
              .from(Fixtures.MINIMAL_BUNDLES.build(workload, mesh))
              .addFiles(
                  BundleFile.of(
                      "version.txt",
                      0644,
                      workload
                          .labels()
                          .getOrDefault("version", "v1")
                          .getBytes(StandardCharsets.UTF_8)))
              .build();

  private final InMemoryStages stages = InMemoryStages.create();
  private final RecordingListener listener = new RecordingListener();

  RollbackTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  private OnboardingPipeline.Builder pipeline() {
    return Fixtures.pipeline(stages).bundleFactory(VERSIONED).listener(listener);
  }

  private OnboardingResult onboard() {
    return pipeline().build().onboard(BACKEND);
  }

  /** Onboards version 1 successfully; returns the bundle the VM then holds. */
  private Bundle onboardedV1() {
    assertThat(onboard().outcome()).isEqualTo(Outcome.SUCCEEDED);
    return stages.transport().bundleAt(target()).orElseThrow();
  }

  /** Changes the workload so that its next run delivers {@code version}. */
  private void updateTo(String version) {
    stages
        .registrar()
        .add(stages.registrar().resolve(BACKEND).toBuilder().putLabels("version", version).build());
    stages.log().clear();
  }

  private Target target() {
    return Target.resolve(stages.registrar().resolve(BACKEND), TargetDefaults.standard());
  }

  private String version() {
    return new String(
        stages
            .transport()
            .bundleAt(target())
            .orElseThrow()
            .file("version.txt")
            .orElseThrow()
            .content(),
        StandardCharsets.UTF_8);
  }

  private List<String> calls() {
    return stages.log().calls().stream()
        .map(call -> call.component() + "." + call.operation())
        .toList();
  }

  @Test
  void anUpdateWhoseProxyDoesNotStartRollsBackToThePreviousBundleAndProxy() {
    Bundle v1 = onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.failOnce("the new proxy exited at once"));

    OnboardingResult result = onboard();

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.failedStage()).contains(Stage.LAUNCH);
    assertThat(result.stages())
        .extracting(StageResult::stage)
        .endsWith(Stage.DELIVER, Stage.LAUNCH, Stage.ROLLBACK);
    StageResult rollback = result.stage(Stage.ROLLBACK).orElseThrow();
    assertThat(rollback.outcome()).isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(rollback.detail()).contains("rolled back: the previous bundle and proxy are back");
    OnboardingException failure = result.failure().orElseThrow();
    assertThat(failure.stage()).contains(Stage.LAUNCH);
    assertThat(failure.host()).contains("10.0.0.4");
    assertThat(failure.getMessage())
        .contains("stage 'start the proxy'")
        .contains("the new proxy exited at once")
        .contains("rolled back: the previous bundle and proxy are back");
    assertThat(calls())
        .endsWith(
            "Transport.deliver",
            "ProxyLauncher.launch",
            "Transport.restorePrevious",
            "ProxyLauncher.restorePrevious");

    assertThat(stages.transport().bundleAt(target())).containsSame(v1);
    assertThat(stages.launcher().runningBundleHash(target())).contains(v1.contentHash());
    assertThat(stages.transport().previousAt(target())).isEmpty();
    assertThat(stages.launcher().keepsPrevious(target())).isFalse();
    assertThat(
            BootstrapRecord.fromAnnotations(stages.registrar().resolve(BACKEND).annotations())
                .orElseThrow()
                .bundleHash())
        .as("the record still names the bundle the VM runs")
        .isEqualTo(v1.contentHash());
    assertThat(listener.events(OnboardingEvent.StageSucceeded.class))
        .extracting(OnboardingEvent.StageSucceeded::stage)
        .endsWith(Stage.ROLLBACK);
  }

  @Test
  void theNextRunAfterARollbackTriesTheUpdateAgain() {
    onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.failOnce("the new proxy exited at once"));
    onboard();
    assertThat(version()).isEqualTo("v1");

    OnboardingResult again = onboard();

    assertThat(again.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(again.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("the bundle changed");
    assertThat(version()).isEqualTo("v2");
  }

  @Test
  void aFailedFirstLaunchHasNothingToRestoreAndSaysSo() {
    stages.launcher().failWith(Fault.failAlways("image not found"));

    OnboardingResult result = onboard();

    assertThat(result.failedStage()).contains(Stage.LAUNCH);
    assertThat(result.stage(Stage.ROLLBACK).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(result.stage(Stage.ROLLBACK).orElseThrow().detail().orElseThrow())
        .contains("nothing to restore");
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("image not found")
        .contains("not rolled back: nothing to restore (no previous bundle was kept");
    assertThat(calls())
        .endsWith(
            "ProxyLauncher.launch", "Transport.restorePrevious", "ProxyLauncher.discardPrevious");
    assertThat(version()).as("the VM keeps the only bundle it got").isEqualTo("v1");
    assertThat(stages.launcher().isRunning(target())).isFalse();
  }

  @Test
  void aRollbackThatFailsIsReportedNextToTheLaunchFailure() {
    onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.failOnce("the new proxy exited at once"));
    stages.transport().failRollbackWith(Fault.failAlways("the disk went away"));

    OnboardingResult result = onboard();

    assertThat(result.failedStage())
        .as("the launch's failure, not the rollback's")
        .contains(Stage.LAUNCH);
    assertThat(result.stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.FAILED);
    StageResult rollback = result.stage(Stage.ROLLBACK).orElseThrow();
    assertThat(rollback.outcome()).isEqualTo(StageResult.Outcome.FAILED);
    assertThat(rollback.detail().orElseThrow()).contains("the disk went away");
    OnboardingException failure = result.failure().orElseThrow();
    assertThat(failure.getMessage())
        .contains("the new proxy exited at once")
        .contains("the rollback failed too")
        .contains("the disk went away");
    assertThat(failure.getSuppressed())
        .singleElement()
        .isInstanceOfSatisfying(
            OnboardingException.class, e -> assertThat(e.stage()).contains(Stage.ROLLBACK));
    assertThat(calls()).doesNotContain("ProxyLauncher.restorePrevious");
  }

  @Test
  void aTransientRollbackFailureIsRetriedWithoutAskingTheTransportTwice() {
    Bundle v1 = onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.failOnce("the new proxy exited at once"));
    stages.launcher().failRollbackWith(Fault.failTransiently(1, "connection reset"));

    OnboardingResult result = onboard();

    assertThat(result.stage(Stage.ROLLBACK).orElseThrow().attempts()).isEqualTo(2);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("rolled back: the previous bundle and proxy are back");
    assertThat(stages.log().calls("restorePrevious"))
        .extracting(call -> call.component())
        .containsExactly("Transport", "ProxyLauncher", "ProxyLauncher");
    assertThat(stages.transport().bundleAt(target())).containsSame(v1);
    assertThat(stages.launcher().runningBundleHash(target())).contains(v1.contentHash());
  }

  @Test
  void aLaunchThatTimesOutIsRolledBackToo() {
    Bundle v1 = onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.hang());

    OnboardingResult result =
        pipeline().stageTimeout(Stage.LAUNCH, Duration.ofMillis(200)).build().onboard(BACKEND);

    assertThat(result.stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("did not finish within 200 ms")
        .contains("rolled back: the previous bundle and proxy are back");
    assertThat(stages.transport().bundleAt(target())).containsSame(v1);
    assertThat(stages.launcher().runningBundleHash(target())).contains(v1.contentHash());
  }

  @Test
  void aCancelledRunIsNotRolledBackAndSaysSo() {
    onboardedV1();
    updateTo("v2");
    stages.launcher().failWith(Fault.hang());

    OnboardingResult result =
        pipeline().runTimeout(Duration.ofMillis(300)).build().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(result.stage(Stage.ROLLBACK).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SKIPPED);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("not rolled back: the run was cancelled");
    assertThat(stages.log().calls("restorePrevious")).isEmpty();
  }

  @Test
  void aSuccessfulUpdateDropsThePreviousBundleAndProxy() {
    onboardedV1();
    updateTo("v2");

    OnboardingResult result = onboard();

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.stage(Stage.ROLLBACK)).isEmpty();
    assertThat(calls())
        .containsSubsequence(
            "ProxyLauncher.launch",
            "Transport.discardPrevious",
            "ProxyLauncher.discardPrevious",
            "Registrar.record");
    assertThat(version()).isEqualTo("v2");
    assertThat(stages.transport().previousAt(target())).isEmpty();
    assertThat(stages.launcher().keepsPrevious(target())).isFalse();
    assertThat(result.stage(Stage.LAUNCH).orElseThrow().detail()).isEmpty();
  }

  @Test
  void aFailureToDropThePreviousCopiesDoesNotFailTheOnboarding() {
    onboardedV1();
    updateTo("v2");
    stages.transport().failRollbackWith(Fault.failAlways("read-only file system"));

    OnboardingResult result = onboard();

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    StageResult launch = result.stage(Stage.LAUNCH).orElseThrow();
    assertThat(launch.outcome()).isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(launch.detail().orElseThrow())
        .contains("could not drop the previous bundle and proxy kept for a rollback")
        .contains("read-only file system");
    assertThat(listener.events(OnboardingEvent.StageProgress.class))
        .anySatisfy(
            progress -> {
              assertThat(progress.stage()).isEqualTo(Stage.LAUNCH);
              assertThat(progress.message()).contains("read-only file system");
            });
    assertThat(stages.launcher().keepsPrevious(target()))
        .as("the launcher still drops its copy")
        .isFalse();
    assertThat(result.stage(Stage.RECORD).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SUCCEEDED);
  }

  @Test
  void theDryRunPlanSaysWhatFollowsTheLaunch() {
    OnboardingPlan plan = pipeline().build().dryRun().onboard(BACKEND).plan().orElseThrow();

    OnboardingPlan.Step launch =
        plan.steps().stream().filter(s -> s.stage() == Stage.LAUNCH).findFirst().orElseThrow();
    assertThat(launch.actions().get(launch.actions().size() - 1))
        .contains("drop the previous bundle and proxy")
        .contains("restore the previous bundle and proxy");
  }
}
