package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Stages that ignore their interrupt (a call blocked in I/O that no interrupt reaches): the run
 * ends all the same, its thread is left to the stage, and nothing more happens when it returns.
 */
class AbandonedStageTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  private final InMemoryStages stages = InMemoryStages.create();
  private final RecordingListener listener = new RecordingListener();
  private final Fault stuck = Fault.unresponsive();

  AbandonedStageTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  @AfterEach
  void releaseStuckCalls() {
    stuck.release();
  }

  /** A pipeline whose {@code stage} times out after 200 ms. */
  private OnboardingPipeline.Builder timingOut(Stage stage) {
    return Fixtures.pipeline(stages).listener(listener).stageTimeout(stage, Duration.ofMillis(200));
  }

  @Test
  void aRunEndsAfterItsTimeoutAndTheGraceEvenWhenTheStageIgnoresTheInterrupt()
      throws InterruptedException {
    stages.launcher().failWith(stuck);
    OnboardingPipeline pipeline = timingOut(Stage.LAUNCH).build();

    long start = System.nanoTime();
    OnboardingResult result = assertTimeoutPreemptively(PATIENCE, () -> pipeline.onboard(BACKEND));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(200 + 500));
    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("did not finish within 200 ms")
        .contains("ignored the interrupt")
        .contains("ns/backend-vm")
        .contains("on host 10.0.0.4");
    assertThat(result.plan()).as("the abandoned run still reports its plan").isPresent();

    int callsWhenReported = stages.log().calls().size();
    stuck.release();
    Thread.sleep(300);
    assertThat(stages.log().calls())
        .as("the freed thread runs no further stage (no rollback, no record)")
        .hasSize(callsWhenReported);
    assertThat(listener.events(OnboardingEvent.WorkloadFinished.class)).hasSize(1);
  }

  @Test
  void aFleetKeepsItsConcurrencyWhileAnAbandonedRunHoldsAWorker() {
    List<WorkloadRef> refs = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      Workload vm = Fixtures.vm("fleet", "vm-" + i, "10.1.0." + i);
      stages.registrar().add(vm);
      refs.add(vm.ref());
    }
    stages.launcher().failWith(stuck.onlyFor(refs.get(0)));
    OnboardingPipeline pipeline = timingOut(Stage.LAUNCH).concurrency(1).build();

    // With one worker held by vm-1's stage, the fleet finishes only if it gets another.
    FleetResult fleet = assertTimeoutPreemptively(PATIENCE, () -> pipeline.onboardAll(refs));

    assertThat(fleet.results().get(0).stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertThat(fleet.results().subList(1, 5))
        .allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.SUCCEEDED));
  }

  @Test
  void cancellingARunHeldByAnUnresponsiveStageEndsItAfterTheGrace() throws Exception {
    stages.transport().failWith(stuck);
    OnboardingPipeline pipeline = Fixtures.pipeline(stages).build();
    InterruptedCaller<OnboardingResult> caller =
        InterruptedCaller.start(() -> pipeline.onboard(BACKEND));
    OnboardingPipelineTest.waitFor(() -> !stages.log().calls("deliver").isEmpty());
    OnboardingResult result = caller.interruptAndAwait(PATIENCE);

    assertDeliveryAbandonedAsCancelled(result, "cancelled");
    assertThat(caller.interruptedAfter()).as("the interrupt is preserved for the caller").isTrue();
    assertThat(stages.log().calls("launch")).isEmpty();
  }

  @Test
  void theRunsDeadlineEndsAnUnresponsiveStageAsCancelled() {
    stages.transport().failWith(stuck);
    OnboardingPipeline pipeline =
        Fixtures.pipeline(stages).runTimeout(Duration.ofMillis(300)).build();

    OnboardingResult result = assertTimeoutPreemptively(PATIENCE, () -> pipeline.onboard(BACKEND));

    assertDeliveryAbandonedAsCancelled(result, "the run's deadline passed");
  }

  @Test
  void aCleanUpThatIgnoresItsInterruptEndsTheRunAsFailedWithoutRecordingIt() {
    // The clean-up after a ready launch drops what was kept for a rollback.
    stages.transport().failRollbackWith(stuck);
    OnboardingPipeline pipeline = timingOut(Stage.LAUNCH).build();

    OnboardingResult result = assertTimeoutPreemptively(PATIENCE, () -> pipeline.onboard(BACKEND));

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    StageResult launch = result.stage(Stage.LAUNCH).orElseThrow();
    assertThat(launch.outcome()).as("the proxy did start").isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(launch.detail().orElseThrow())
        .contains("could not drop the previous bundle and proxy kept for a rollback")
        .contains("ignored the interrupt");
    assertThat(result.failure().orElseThrow().getMessage()).contains("ignored the interrupt");
    assertThat(result.stage(Stage.RECORD)).as("not recorded: the next run does it again").isEmpty();
    assertThat(listener.events(OnboardingEvent.StageProgress.class))
        .anySatisfy(p -> assertThat(p.message()).contains("ignored the interrupt"));
    assertThat(stages.log().calls("record")).isEmpty();
  }

  @Test
  void abandoningARunClosesItsSharedResourcesWhichMayFreeTheHeldCall() {
    AtomicInteger closed = new AtomicInteger();
    CountDownLatch connectionClosed = new CountDownLatch(1);
    AtomicBoolean freed = new AtomicBoolean();
    Transport blockedOnItsConnection =
        new Transport() {
          @Override
          public void deliver(Bundle bundle, Target target, StageContext context) {
            context.shared(
                Connection.class,
                () ->
                    new Connection(
                        () -> {
                          closed.incrementAndGet();
                          connectionClosed.countDown();
                        }));
            // A read on a socket: deaf to interrupts, ended by closing the socket.
            while (true) {
              try {
                connectionClosed.await();
                freed.set(true);
                throw StageException.permanent("connection closed", null);
              } catch (InterruptedException ignored) {
                // as a blocked socket read would
              }
            }
          }

          @Override
          public void remove(Target target, StageContext context) {}
        };
    OnboardingPipeline pipeline =
        timingOut(Stage.DELIVER).transport(blockedOnItsConnection).build();

    OnboardingResult result = assertTimeoutPreemptively(PATIENCE, () -> pipeline.onboard(BACKEND));

    assertThat(result.stage(Stage.DELIVER).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertTimeoutPreemptively(
        PATIENCE,
        () -> {
          while (!freed.get()) {
            Thread.sleep(5);
          }
        });
    assertThat(closed).hasValue(1);
  }

  /** A shared resource that says when it is closed. */
  private record Connection(Runnable onClose) implements AutoCloseable {
    @Override
    public void close() {
      onClose.run();
    }
  }

  /** The run ended as cancelled at its held delivery, saying why and that the stage was left. */
  private static void assertDeliveryAbandonedAsCancelled(OnboardingResult result, String why) {
    assertThat(result.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(result.stage(Stage.DELIVER).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.CANCELLED);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains(why)
        .contains("ignored the interrupt");
  }
}
