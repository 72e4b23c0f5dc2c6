package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.CallLog;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import org.junit.jupiter.api.Test;

class OffboardAndDryRunTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");

  private final InMemoryStages stages = InMemoryStages.create();

  OffboardAndDryRunTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  private OnboardingPipeline pipeline() {
    return Fixtures.pipeline(stages).build();
  }

  @Test
  void offboardsInReverseOrder() {
    OnboardingResult onboarded = pipeline().onboard(BACKEND);
    Target target = onboarded.target().orElseThrow();
    stages.log().clear();

    OnboardingResult result = pipeline().offboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.operation()).isEqualTo(OnboardingResult.Operation.OFFBOARD);
    assertThat(result.stages())
        .extracting(StageResult::stage)
        .containsExactly(
            Stage.RESOLVE, Stage.PREPARE, Stage.STOP_PROXY, Stage.REMOVE_BUNDLE, Stage.DEREGISTER);
    assertThat(stages.log().calls())
        .extracting(call -> call.component() + "." + call.operation())
        .containsExactly(
            "Registrar.resolve",
            "ProxyLauncher.remove",
            "Transport.remove",
            "Registrar.deregister");
    assertThat(stages.launcher().isRunning(target)).isFalse();
    assertThat(stages.transport().bundleAt(target)).isEmpty();
    assertThat(stages.registrar().workloads()).isEmpty();
  }

  @Test
  void offboardingAVmThatWasNeverOnboardedIsFine() {
    OnboardingResult result = pipeline().offboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(stages.registrar().workloads()).isEmpty();
  }

  @Test
  void offboardingAnUnregisteredWorkloadEndsUnchanged() {
    pipeline().offboard(BACKEND);

    OnboardingResult again = pipeline().offboard(BACKEND);

    assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(again.isSuccess()).isTrue();
    assertThat(again.stage(Stage.DEREGISTER).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SKIPPED);
  }

  @Test
  void keepsTheRegistrationWhenTheVmCannotBeCleaned() {
    pipeline().onboard(BACKEND);
    stages.transport().failUndoWith(Fault.failAlways("host unreachable"));

    OnboardingResult result = pipeline().offboard(BACKEND);

    assertThat(result.failedStage()).contains(Stage.REMOVE_BUNDLE);
    assertThat(stages.registrar().workloads()).extracting(Workload::ref).containsExactly(BACKEND);
  }

  @Test
  void aDryRunReturnsThePlanAndChangesNothing() {
    OnboardingResult planned = pipeline().dryRun().onboard(BACKEND);

    assertThat(planned.outcome()).isEqualTo(Outcome.PLANNED);
    assertThat(planned.operation()).isEqualTo(OnboardingResult.Operation.PLAN);
    assertThat(stages.log().calls()).extracting(CallLog.Call::operation).containsExactly("resolve");
    assertThat(stages.tokenIssuer().issued()).isEmpty();
    assertThat(stages.transport().deliveries()).isEmpty();
    OnboardingPlan plan = planned.plan().orElseThrow();
    assertThat(plan.steps())
        .extracting(OnboardingPlan.Step::stage)
        .containsExactly(
            Stage.RESOLVE,
            Stage.CHECK,
            Stage.ISSUE_TOKEN,
            Stage.DELIVER,
            Stage.LAUNCH,
            Stage.RECORD);
    assertThat(plan.files()).contains("0600 istio-token (bootstrap token, redacted)");
  }

  @Test
  void aDryRunRegistrationRegistersNothing() {
    Workload frontend = Fixtures.vm("ns", "frontend-vm", "10.0.0.5");

    OnboardingResult planned = pipeline().dryRun().onboard(Registration.of(frontend));

    assertThat(planned.outcome()).isEqualTo(Outcome.PLANNED);
    assertThat(stages.log().calls()).isEmpty();
    assertThat(planned.plan().orElseThrow().steps().get(0).stage()).isEqualTo(Stage.REGISTER);
  }

  @Test
  void aDryRunOffboardRemovesNothing() {
    pipeline().onboard(BACKEND);
    stages.log().clear();

    OnboardingResult planned = pipeline().dryRun().offboard(BACKEND);

    assertThat(planned.outcome()).isEqualTo(Outcome.PLANNED);
    assertThat(stages.log().calls()).extracting(CallLog.Call::operation).containsExactly("resolve");
    assertThat(stages.registrar().workloads()).hasSize(1);
  }

  @Test
  void theRealRunFollowsTheSamePlanAsTheDryRun() {
    OnboardingPlan dry = pipeline().dryRun().onboard(BACKEND).plan().orElseThrow();

    OnboardingPlan real = pipeline().onboard(BACKEND).plan().orElseThrow();

    assertThat(real).isEqualTo(dry);
  }
}
