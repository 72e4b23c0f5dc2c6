package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.OnboardingEvent.FleetProgress;
import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FleetTest {

  private final InMemoryStages stages = InMemoryStages.create();
  private final RecordingListener listener = new RecordingListener();

  private List<WorkloadRef> fleet(int size) {
    List<WorkloadRef> refs = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      Workload vm = Fixtures.vm("fleet", "vm-" + i, "10.1." + (i / 250) + "." + (i % 250 + 1));
      stages.registrar().add(vm);
      refs.add(vm.ref());
    }
    return refs;
  }

  @Test
  void aFleetOfFiftyWithSevenFailuresInDifferentStagesReportsEachCause() {
    List<WorkloadRef> refs = fleet(50);
    Map<WorkloadRef, Stage> failing =
        Map.of(
            refs.get(3), Stage.RESOLVE,
            refs.get(8), Stage.ISSUE_TOKEN,
            refs.get(15), Stage.DELIVER,
            refs.get(22), Stage.DELIVER,
            refs.get(30), Stage.LAUNCH,
            refs.get(41), Stage.LAUNCH,
            refs.get(47), Stage.PREPARE);
    failing.forEach(
        (ref, stage) -> {
          Fault fault = Fault.failAlways("fault in " + stage + " for " + ref.name()).onlyFor(ref);
          switch (stage) {
            case RESOLVE -> stages.registrar().failWith(fault);
            case ISSUE_TOKEN -> stages.tokenIssuer().failWith(fault);
            case DELIVER -> stages.transport().failWith(fault);
            case LAUNCH -> stages.launcher().failWith(fault);
            case PREPARE ->
                stages
                    .registrar()
                    .add(
                        Workload.builder(ref)
                            .address("10.9.9.9")
                            .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), "99999")
                            .serviceAccount("vm-sa")
                            .build());
            default -> throw new IllegalArgumentException(stage.toString());
          }
        });

    FleetResult result =
        Fixtures.pipeline(stages).concurrency(6).listener(listener).build().onboardAll(refs);

    assertThat(result.results()).hasSize(50);
    assertThat(result.results()).extracting(OnboardingResult::workload).isEqualTo(refs);
    assertThat(result.successCount()).isEqualTo(43);
    assertThat(result.failures()).hasSize(7);
    Map<WorkloadRef, Stage> reported =
        result.failures().stream()
            .collect(
                Collectors.toMap(OnboardingResult::workload, r -> r.failedStage().orElseThrow()));
    assertThat(reported).isEqualTo(failing);
    result.failures().stream()
        .filter(r -> r.failedStage().orElseThrow() != Stage.PREPARE)
        .forEach(
            r ->
                assertThat(r.failure().orElseThrow().getMessage())
                    .contains(r.workload().toString())
                    .contains("for " + r.workload().name()));
    assertThat(
            result.failures().stream()
                .filter(r -> r.failedStage().orElseThrow() == Stage.PREPARE)
                .findFirst()
                .orElseThrow()
                .failure()
                .orElseThrow()
                .getMessage())
        .contains("sidecar-bootstrap.istio.io/ssh-port")
        .contains("99999");

    List<FleetProgress> progress = listener.events(FleetProgress.class);
    assertThat(progress).hasSize(50);
    assertThat(progress).extracting(FleetProgress::done).isSorted().endsWith(50);
    assertThat(progress.get(progress.size() - 1).failed()).isEqualTo(7);
    assertThat(progress).allSatisfy(p -> assertThat(p.total()).isEqualTo(50));
  }

  @Test
  void neverRunsMoreWorkloadsAtOnceThanTheConcurrencyBound() {
    List<WorkloadRef> refs = fleet(40);
    stages.transport().failWith(Fault.slow(Duration.ofMillis(30)));

    FleetResult result = Fixtures.pipeline(stages).concurrency(4).build().onboardAll(refs);

    assertThat(result.allSucceeded()).isTrue();
    assertThat(stages.log().maxConcurrentCalls())
        .as("measured peak of stage calls in flight")
        .isEqualTo(4);
  }

  @Test
  void oneAtATimeIsOneAtATime() {
    List<WorkloadRef> refs = fleet(10);
    stages.launcher().failWith(Fault.slow(Duration.ofMillis(10)));

    Fixtures.pipeline(stages).concurrency(1).build().onboardAll(refs);

    assertThat(stages.log().maxConcurrentCalls()).isEqualTo(1);
  }

  @Test
  void onboardsEveryWorkloadASelectorCovers() {
    fleet(5);
    stages.registrar().add(Fixtures.vm("other", "elsewhere", "10.2.0.1"));

    FleetResult result =
        Fixtures.pipeline(stages).build().onboardAll(WorkloadSelector.inNamespace("fleet"));

    assertThat(result.results()).hasSize(5).allSatisfy(r -> assertThat(r.isSuccess()).isTrue());
    assertThat(stages.log().calls("resolve"))
        .as("the listed workloads are used as listed, not resolved once more each")
        .isEmpty();
  }

  @Test
  void refusesAWorkloadListedTwice() {
    List<WorkloadRef> refs = fleet(2);
    List<WorkloadRef> twice = List.of(refs.get(0), refs.get(1), refs.get(0));

    assertThatThrownBy(() -> Fixtures.pipeline(stages).build().onboardAll(twice))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("fleet/vm-1 is listed twice");
    assertThat(stages.log().calls()).isEmpty();
  }

  @Test
  void interruptingAFleetCancelsWhatIsInFlightAndWhatHasNotStarted() throws Exception {
    List<WorkloadRef> refs = fleet(20);
    stages.transport().failWith(Fault.hang());
    OnboardingPipeline pipeline = Fixtures.pipeline(stages).concurrency(3).build();
    InterruptedCaller<FleetResult> caller =
        InterruptedCaller.start(() -> pipeline.onboardAll(refs));
    OnboardingPipelineTest.waitFor(() -> stages.log().calls("deliver").size() == 3);
    FleetResult result = caller.interruptAndAwait(Duration.ofSeconds(10));

    assertThat(caller.interruptedAfter()).as("the interrupt is preserved for the caller").isTrue();
    assertThat(result.results()).hasSize(20);
    assertThat(result.results())
        .allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CANCELLED));
    assertThat(stages.log().calls("launch")).isEmpty();
  }

  @Test
  void readsTheMeshConfigurationOnceForAWholeFleet() {
    List<WorkloadRef> refs = fleet(30);
    int[] reads = new int[1];
    OnboardingPipeline pipeline =
        Fixtures.pipeline(stages)
            .meshSource(
                () -> {
                  synchronized (reads) {
                    reads[0]++;
                  }
                  return dev.vmonboard.core.testing.TestMeshes.typical();
                })
            .concurrency(8)
            .build();

    assertThat(pipeline.onboardAll(refs).allSucceeded()).isTrue();
    assertThat(reads[0]).isEqualTo(1);
  }
}
