package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.OnboardingEvent.StageFailed;
import dev.vmonboard.core.OnboardingEvent.StageStarted;
import dev.vmonboard.core.OnboardingEvent.StageSucceeded;
import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.CallLog;
import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStage;
import dev.vmonboard.core.testing.InMemoryStages;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OnboardingPipelineTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");

  private final InMemoryStages stages = InMemoryStages.create();
  private final RecordingListener listener = new RecordingListener();

  OnboardingPipelineTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  private OnboardingPipeline pipeline() {
    return Fixtures.pipeline(stages).listener(listener).build();
  }

  @Test
  void runsTheStagesInOrder() {
    OnboardingResult result = pipeline().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.stages())
        .extracting(StageResult::stage)
        .containsExactly(
            Stage.RESOLVE,
            Stage.PREPARE,
            Stage.CHECK,
            Stage.ISSUE_TOKEN,
            Stage.DELIVER,
            Stage.LAUNCH,
            Stage.RECORD);
    assertThat(result.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("no record of an earlier bootstrap");
    assertThat(stages.log().calls())
        .extracting(call -> call.component() + "." + call.operation())
        .containsExactly(
            "Registrar.resolve",
            "TokenIssuer.issue",
            "Transport.deliver",
            "ProxyLauncher.launch",
            "Transport.discardPrevious",
            "ProxyLauncher.discardPrevious",
            "Registrar.record");
    assertThat(result.proxyStatus()).hasValueSatisfying(s -> assertThat(s.isReady()).isTrue());
    assertThat(stages.transport().deliveries())
        .singleElement()
        .satisfies(bundle -> assertThat(bundle.hasToken()).isTrue());
  }

  @Test
  void registersThenOnboardsARegistration() {
    Workload frontend = Fixtures.vm("ns", "frontend-vm", "10.0.0.5");
    OnboardingResult result = pipeline().onboard(Registration.of(frontend));

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.stages())
        .extracting(StageResult::stage)
        .containsExactly(
            Stage.PREPARE,
            Stage.REGISTER,
            Stage.CHECK,
            Stage.ISSUE_TOKEN,
            Stage.DELIVER,
            Stage.LAUNCH,
            Stage.RECORD);
    assertThat(stages.registrar().registrations()).hasSize(1);
  }

  @Test
  void emitsEveryEventInOrderWithDurations() {
    OnboardingResult result = pipeline().onboard(BACKEND);

    List<OnboardingEvent> events = listener.events();
    List<Stage> order =
        List.of(
            Stage.RESOLVE,
            Stage.PREPARE,
            Stage.ISSUE_TOKEN,
            Stage.DELIVER,
            Stage.LAUNCH,
            Stage.RECORD);
    assertThat(events).hasSize(order.size() * 2 + 1);
    for (int i = 0; i < order.size(); i++) {
      assertThat(events.get(2 * i))
          .isInstanceOfSatisfying(
              StageStarted.class,
              started -> {
                assertThat(started.workload()).isEqualTo(BACKEND);
                assertThat(started.attempt()).isEqualTo(1);
              });
      assertThat(((StageStarted) events.get(2 * i)).stage()).isEqualTo(order.get(i));
      assertThat(events.get(2 * i + 1))
          .isInstanceOfSatisfying(
              StageSucceeded.class, succeeded -> assertThat(succeeded.duration()).isPositive());
      assertThat(((StageSucceeded) events.get(2 * i + 1)).stage()).isEqualTo(order.get(i));
    }
    assertThat(events.get(events.size() - 1))
        .isInstanceOfSatisfying(
            OnboardingEvent.WorkloadFinished.class,
            finished -> assertThat(finished.result()).isEqualTo(result));
    assertThat(result.duration()).isPositive();
    assertThat(result.stages())
        .filteredOn(stage -> stage.outcome() != StageResult.Outcome.SKIPPED)
        .hasSize(order.size())
        .allSatisfy(stage -> assertThat(stage.duration()).isPositive());
  }

  static Stream<Arguments> failingStages() {
    Function<InMemoryStages, InMemoryStage> registrar = InMemoryStages::registrar;
    Function<InMemoryStages, InMemoryStage> issuer = InMemoryStages::tokenIssuer;
    Function<InMemoryStages, InMemoryStage> transport = InMemoryStages::transport;
    Function<InMemoryStages, InMemoryStage> launcher = InMemoryStages::launcher;
    // A failed launch is followed by the rollback: nothing to restore after a first delivery.
    return Stream.of(
        Arguments.of(Stage.RESOLVE, registrar, List.<String>of(), List.<String>of()),
        Arguments.of(Stage.ISSUE_TOKEN, issuer, List.of("resolve"), List.<String>of()),
        Arguments.of(Stage.DELIVER, transport, List.of("resolve", "issue"), List.<String>of()),
        Arguments.of(
            Stage.LAUNCH,
            launcher,
            List.of("resolve", "issue", "deliver"),
            List.of("restorePrevious", "discardPrevious")));
  }

  @ParameterizedTest
  @MethodSource("failingStages")
  void aFailingStageStopsTheRunAndIsNamed(
      Stage stage,
      Function<InMemoryStages, InMemoryStage> component,
      List<String> before,
      List<String> after) {
    component.apply(stages).failWith(Fault.failAlways("broken on purpose"));

    OnboardingResult result = pipeline().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.failedStage()).contains(stage);
    List<Stage> ran = result.stages().stream().map(StageResult::stage).toList();
    assertThat(ran.subList(ran.indexOf(stage) + 1, ran.size()))
        .isEqualTo(after.isEmpty() ? List.of() : List.of(Stage.ROLLBACK));
    assertThat(result.stage(stage).orElseThrow().outcome()).isEqualTo(StageResult.Outcome.FAILED);
    OnboardingException failure = result.failure().orElseThrow();
    assertThat(failure.getMessage())
        .contains("ns/backend-vm")
        .contains(stage.description())
        .contains("broken on purpose");
    List<String> operations = stages.log().calls().stream().map(CallLog.Call::operation).toList();
    int failed = before.size();
    assertThat(operations.subList(0, failed)).isEqualTo(before);
    assertThat(operations.subList(failed + 1, operations.size())).isEqualTo(after);
  }

  @Test
  void namesTheHostWhenAStageOnTheVmFails() {
    stages.transport().failWith(Fault.failAlways("disk full"));

    OnboardingException failure = pipeline().onboard(BACKEND).failure().orElseThrow();

    assertThat(failure.host()).contains("10.0.0.4");
    assertThat(failure.getMessage())
        .isEqualTo(
            "ns/backend-vm: stage 'deliver the bundle' (Transport) failed on host 10.0.0.4:"
                + " Transport.deliver: disk full. injected by the test kit");
  }

  @Test
  void retriesATransientFailureUntilItSucceeds() {
    stages.transport().failWith(Fault.failTransiently(2, "connection reset"));

    OnboardingResult result = pipeline().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.stage(Stage.DELIVER).orElseThrow().attempts()).isEqualTo(3);
    assertThat(stages.log().calls("deliver")).hasSize(3);
    assertThat(listener.events(StageFailed.class))
        .hasSize(2)
        .allSatisfy(failed -> assertThat(failed.willRetry()).isTrue());
  }

  @Test
  void givesUpOnATransientFailureAfterTheLastAttempt() {
    stages.transport().failWith(Fault.failTransiently(5, "connection reset"));

    OnboardingResult result = pipeline().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.stage(Stage.DELIVER).orElseThrow().attempts()).isEqualTo(3);
    assertThat(result.failure().orElseThrow().isTransient()).isTrue();
    assertThat(listener.events(StageFailed.class))
        .extracting(StageFailed::willRetry)
        .containsExactly(true, true, false);
  }

  @Test
  void doesNotRetryAPermanentFailure() {
    stages.tokenIssuer().failWith(Fault.failAlways("forbidden"));

    OnboardingResult result = pipeline().onboard(BACKEND);

    assertThat(result.stage(Stage.ISSUE_TOKEN).orElseThrow().attempts()).isEqualTo(1);
    assertThat(stages.log().calls("issue")).hasSize(1);
  }

  @Test
  void endsAStageThatOutlivesItsTimeout() {
    stages.launcher().failWith(Fault.hang());
    OnboardingPipeline pipeline =
        Fixtures.pipeline(stages)
            .listener(listener)
            .stageTimeout(Stage.LAUNCH, Duration.ofMillis(200))
            .build();

    long start = System.nanoTime();
    OnboardingResult result = pipeline.onboard(BACKEND);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("did not finish within 200 ms")
        .contains("on host 10.0.0.4");
  }

  @Test
  void endsWithACancelledResultWhenInterrupted() throws Exception {
    stages.transport().failWith(Fault.hang());
    OnboardingPipeline pipeline = pipeline();
    InterruptedCaller<OnboardingResult> caller =
        InterruptedCaller.start(() -> pipeline.onboard(BACKEND));
    waitFor(() -> !stages.log().calls("deliver").isEmpty());
    OnboardingResult result = caller.interruptAndAwait(Duration.ofSeconds(5));

    assertThat(result.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(result.stage(Stage.DELIVER).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.CANCELLED);
    assertThat(caller.interruptedAfter()).as("the interrupt is preserved for the caller").isTrue();
    assertThat(stages.log().calls("launch")).isEmpty();
  }

  @Test
  void endsWithACancelledResultAtTheRunDeadline() {
    stages.transport().failWith(Fault.hang());
    OnboardingPipeline pipeline =
        Fixtures.pipeline(stages).runTimeout(Duration.ofMillis(300)).build();

    OnboardingResult result = pipeline.onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(result.failure().orElseThrow().getMessage()).contains("deadline");
  }

  @Test
  void closesSharedResourcesWhenTheRunEnds() {
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    Transport sharing =
        new Transport() {
          @Override
          public void deliver(Bundle bundle, Target target, StageContext context) {
            context.shared(Connection.class, () -> new Connection(opened::incrementAndGet, closed));
          }

          @Override
          public void remove(Target target, StageContext context) {}
        };
    ProxyLauncher sameConnection =
        new ProxyLauncher() {
          @Override
          public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
            context.shared(Connection.class, () -> new Connection(opened::incrementAndGet, closed));
            return ProxyStatus.of(ProxyStatus.State.READY, "ok");
          }

          @Override
          public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
            return ProxyStatus.of(ProxyStatus.State.READY, "ok");
          }

          @Override
          public void remove(Bundle bundle, Target target, StageContext context) {}
        };

    OnboardingResult result =
        Fixtures.pipeline(stages)
            .transport(sharing)
            .launcher(sameConnection)
            .build()
            .onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(opened).as("one connection for both stages").hasValue(1);
    assertThat(closed).hasValue(1);
  }

  @Test
  void aThrowingListenerDoesNotBreakOnboarding() {
    OnboardingPipeline pipeline =
        Fixtures.pipeline(stages)
            .listener(
                event -> {
                  throw new IllegalStateException("listener bug");
                })
            .listener(listener)
            .build();

    OnboardingResult result = pipeline.onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(listener.events()).hasSize(13);
  }

  @Test
  void launcherNoneOnlyDelivers() {
    OnboardingResult result =
        Fixtures.pipeline(stages).launcher(ProxyLauncher.none()).build().onboard(BACKEND);

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.proxyStatus().orElseThrow().state()).isEqualTo(ProxyStatus.State.NOT_STARTED);
    assertThat(stages.log().calls("launch")).isEmpty();
  }

  @Test
  void refusesAWorkloadWithoutServiceAccountOrAddressBeforeAnySideEffect() {
    Workload incomplete = Workload.builder(WorkloadRef.of("ns", "broken-vm")).build();
    stages.registrar().add(incomplete);

    OnboardingResult result = pipeline().onboard(incomplete.ref());

    assertThat(result.failedStage()).contains(Stage.PREPARE);
    assertThat(result.failure().orElseThrow())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("ns/broken-vm")
        .hasMessageContaining("spec.serviceAccount is missing")
        .hasMessageContaining("spec.address is missing");
    assertThat(stages.log().calls()).extracting(CallLog.Call::operation).containsExactly("resolve");
  }

  @Test
  void refusesAnInvalidRegistrationBeforeRegisteringAnything() {
    Workload bad =
        Fixtures.vm("ns", "bad-vm", "10.0.0.9").toBuilder()
            .putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), "etc/../istio")
            .build();

    OnboardingResult result = pipeline().onboard(Registration.of(bad));

    assertThat(result.failedStage()).contains(Stage.PREPARE);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("sidecar-bootstrap.istio.io/proxy-config-dir");
    assertThat(stages.log().calls()).isEmpty();
  }

  @Test
  void refusesABuilderMissingStagesNamingEachOne() {
    assertThatThrownBy(() -> OnboardingPipeline.builder().concurrency(0).build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("registrar is missing")
        .hasMessageContaining("tokenIssuer is missing")
        .hasMessageContaining("meshSource is missing")
        .hasMessageContaining("bundleFactory is missing")
        .hasMessageContaining("transport is missing")
        .hasMessageContaining("launcher is missing")
        .hasMessageContaining("concurrency must be at least 1, not 0");
  }

  @Test
  void refusesAConcurrencyBelowOne() {
    assertThatThrownBy(() -> Fixtures.pipeline(stages).concurrency(-3).build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("concurrency must be at least 1, not -3")
        .hasMessageNotContaining("registrar");
  }

  @Test
  void refusesNonPositiveTimeouts() {
    assertThatThrownBy(
            () ->
                Fixtures.pipeline(stages)
                    .stageTimeout(Duration.ZERO)
                    .stageTimeout(Stage.LAUNCH, Duration.ofSeconds(-1))
                    .build())
        .hasMessageContaining("stageTimeout must be a positive duration")
        .hasMessageContaining("stageTimeout(LAUNCH) must be a positive duration");
  }

  /** A stand-in for a shared connection that counts its closing. */
  record Connection(Runnable onOpen, AtomicInteger closed) implements AutoCloseable {
    Connection {
      onOpen.run();
    }

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(5);
    }
  }
}
