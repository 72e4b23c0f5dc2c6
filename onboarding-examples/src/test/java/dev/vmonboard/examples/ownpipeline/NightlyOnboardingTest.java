package dev.vmonboard.examples.ownpipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import org.junit.jupiter.api.Test;

/**
 * How a host application unit-tests its own onboarding code ({@link NightlyOnboarding}) with the
 * SDK's in-memory test kit: no cluster, no VM, no network; failures injected where wanted.
 */
class NightlyOnboardingTest {

  static final WorkloadRef BACKEND = WorkloadRef.of("vms", "backend-vm");
  static final WorkloadRef FRONTEND = WorkloadRef.of("vms", "frontend-vm");

  // The four stages in memory; the real bundle factory; a typical mesh built by hand.
  final InMemoryStages stages = InMemoryStages.create();
  final OnboardingPipeline pipeline =
      stages.pipelineBuilder(ContainerBundleFactory.create(), TestMeshes.typical()).build();
  final NightlyOnboarding job = new NightlyOnboarding(pipeline);

  NightlyOnboardingTest() {
    stages.registrar().add(vm(BACKEND, "10.0.0.21"), vm(FRONTEND, "10.0.0.22"));
  }

  static Workload vm(WorkloadRef ref, String address) {
    return Workload.builder(ref).address(address).serviceAccount("vm-sa").build();
  }

  @Test
  void onboardsEveryVmOfTheNamespaceWithItsOwnToken() {
    NightlyOnboarding.Report report = job.run(WorkloadSelector.inNamespace("vms"));

    assertThat(report.allOnboarded()).isTrue();
    assertThat(report.onboarded()).containsExactlyInAnyOrder(BACKEND, FRONTEND);
    assertThat(report.rounds()).isEqualTo(1);
    assertThat(stages.tokenIssuer().issued()).hasSize(2);
    assertThat(stages.transport().deliveries())
        .hasSize(2)
        .allMatch(Bundle::hasToken)
        .allMatch(bundle -> bundle.file(ContainerBundleFactory.ENV_FILE).isPresent());
  }

  @Test
  void givesAVmThatFailedTransientlyASecondRound() {
    // More transient failures than the pipeline's three attempts: the first round gives up.
    stages.transport().failWith(Fault.failTransiently(3, "connection reset").onlyFor(FRONTEND));

    NightlyOnboarding.Report report = job.run(WorkloadSelector.inNamespace("vms"));

    assertThat(report.allOnboarded()).as(report.toString()).isTrue();
    assertThat(report.rounds()).isEqualTo(2);
    assertThat(stages.log().calls(FRONTEND))
        .filteredOn(call -> call.operation().equals("deliver"))
        .hasSize(4);
  }

  @Test
  void reportsAPermanentFailureByVmAndStageWithoutASecondRoundOrASecret() {
    stages.launcher().failWith(Fault.failAlways("docker: permission denied").onlyFor(BACKEND));

    NightlyOnboarding.Report report = job.run(WorkloadSelector.inNamespace("vms"));

    assertThat(report.onboarded()).containsExactly(FRONTEND);
    assertThat(report.rounds()).isEqualTo(1);
    assertThat(report.failures())
        .singleElement()
        .asString()
        .startsWith("vms/backend-vm: stage 'start the proxy' (ProxyLauncher) failed")
        .contains("docker: permission denied");
    Canary.assertAbsent("the report", report.toString());
  }
}
