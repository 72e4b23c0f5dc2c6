package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.testing.CallLog;
import dev.vmonboard.core.testing.InMemoryStages;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class IdempotenceAndRefreshTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");

  /** A clock tests move forward. */
  static final class MovableClock extends Clock {
    private Instant now = Instant.parse("2026-11-25T12:00:00Z");

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private final MovableClock clock = new MovableClock();
  private final InMemoryStages stages = InMemoryStages.create(clock);

  IdempotenceAndRefreshTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  private OnboardingPipeline.Builder pipeline() {
    return Fixtures.pipeline(stages)
        .clock(clock)
        .tokenLifetime(Duration.ofHours(24))
        .tokenRefreshMargin(Duration.ofHours(6));
  }

  private Target target() {
    return Target.resolve(stages.registrar().resolve(BACKEND), TargetDefaults.standard());
  }

  @Test
  void recordsTheBootstrapOnTheWorkloadAndOnTheVm() {
    OnboardingResult result = pipeline().build().onboard(BACKEND);

    Workload recorded = stages.registrar().resolve(BACKEND);
    BootstrapRecord record = BootstrapRecord.fromAnnotations(recorded.annotations()).orElseThrow();
    assertThat(record.bundleHash()).isEqualTo(result.bundleHash().orElseThrow());
    assertThat(record.bootstrappedAt()).isEqualTo(clock.instant());
    assertThat(record.tokenExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(24)));
    String onVm =
        new String(
            stages
                .transport()
                .bundleAt(target())
                .orElseThrow()
                .recordFile()
                .orElseThrow()
                .content(),
            StandardCharsets.UTF_8);
    assertThat(onVm).contains(record.bundleHash()).contains(record.tokenExpiresAt().toString());
  }

  @Test
  void aSecondRunTouchesNothingAndSaysSo() {
    pipeline().build().onboard(BACKEND);
    stages.log().clear();
    clock.advance(Duration.ofHours(1));

    OnboardingResult again = pipeline().build().onboard(BACKEND);

    assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(again.stage(Stage.CHECK).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(again.stage(Stage.DELIVER).orElseThrow().detail().orElseThrow())
        .contains("unchanged: same bundle, proxy ready, token still fresh");
    assertThat(stages.log().calls())
        .extracting(call -> call.component() + "." + call.operation())
        .containsExactly("Registrar.resolve", "ProxyLauncher.status");
    assertThat(stages.tokenIssuer().issued()).hasSize(1);
  }

  @Test
  void aChangedBundleIsDeliveredAgain() {
    pipeline().build().onboard(BACKEND);
    Workload changed =
        stages.registrar().resolve(BACKEND).toBuilder().putLabels("version", "v2").build();
    stages.registrar().add(changed);
    OnboardingPipeline pipeline =
        pipeline()
            .bundleFactory(
                (workload, mesh) ->
                    Bundle.builder()
                        .from(Fixtures.MINIMAL_BUNDLES.build(workload, mesh))
                        .addFiles(
                            BundleFile.of(
                                "labels.txt",
                                0644,
                                workload.labels().toString().getBytes(StandardCharsets.UTF_8)))
                        .build())
            .build();

    OnboardingResult again = pipeline.onboard(BACKEND);

    assertThat(again.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(again.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("the bundle changed");
    assertThat(stages.transport().deliveries()).hasSize(2);
  }

  @Test
  void aStoppedProxyIsStartedAgain() {
    OnboardingPipeline pipeline = pipeline().build();
    pipeline.onboard(BACKEND);
    try (StageContext.Standalone context =
        StageContext.standalone(BACKEND, Stage.STOP_PROXY, Duration.ofSeconds(5))) {
      stages.launcher().remove(null, target(), context);
    }

    OnboardingResult again = pipeline.onboard(BACKEND);

    assertThat(again.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(stages.launcher().launchCount(target())).isEqualTo(2);
  }

  @Test
  void aTokenCloseToExpiryMakesARunDeliverAgain() {
    OnboardingPipeline pipeline = pipeline().build();
    pipeline.onboard(BACKEND);
    clock.advance(Duration.ofHours(19));

    OnboardingResult again = pipeline.onboard(BACKEND);

    assertThat(again.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(again.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("the token expires at");
  }

  @Test
  void forceDeliversAnUpToDateVmAgain() {
    pipeline().build().onboard(BACKEND);

    OnboardingResult forced = pipeline().force(true).build().onboard(BACKEND);

    assertThat(forced.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(forced.stage(Stage.CHECK).orElseThrow().detail().orElseThrow()).contains("forced");
    assertThat(stages.transport().deliveries()).hasSize(2);
  }

  @Test
  void refreshReplacesOnlyTheTokenWithoutRestartingTheProxy() {
    OnboardingPipeline pipeline = pipeline().build();
    pipeline.onboard(BACKEND);
    Bundle before = stages.transport().bundleAt(target()).orElseThrow();
    clock.advance(Duration.ofHours(20));
    stages.log().clear();

    OnboardingResult refreshed = pipeline.refreshToken(BACKEND);

    assertThat(refreshed.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(refreshed.operation()).isEqualTo(OnboardingResult.Operation.REFRESH_TOKEN);
    assertThat(stages.log().calls())
        .extracting(CallLog.Call::operation)
        .containsExactly("resolve", "issue", "deliverToken", "record");
    assertThat(stages.launcher().launchCount(target())).isEqualTo(1);
    Bundle after = stages.transport().bundleAt(target()).orElseThrow();
    assertThat(after.file("istio-token").orElseThrow().content())
        .isNotEqualTo(before.file("istio-token").orElseThrow().content());
    assertThat(after.file("sidecar.env")).isEqualTo(before.file("sidecar.env"));
    BootstrapRecord record =
        BootstrapRecord.fromAnnotations(stages.registrar().resolve(BACKEND).annotations())
            .orElseThrow();
    assertThat(record.tokenExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(24)));
    assertThat(record.bundleHash()).isEqualTo(before.contentHash());
  }

  @Test
  void refreshLeavesAFreshTokenAlone() {
    OnboardingPipeline pipeline = pipeline().build();
    pipeline.onboard(BACKEND);
    clock.advance(Duration.ofHours(2));

    OnboardingResult refreshed = pipeline.refreshToken(BACKEND);

    assertThat(refreshed.outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(refreshed.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("token valid until");
    assertThat(stages.tokenIssuer().issued()).hasSize(1);
  }

  @Test
  void refreshSkipsAVmThatWasNeverBootstrapped() {
    OnboardingResult refreshed = pipeline().build().refreshToken(BACKEND);

    assertThat(refreshed.outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(refreshed.stage(Stage.CHECK).orElseThrow().detail().orElseThrow())
        .contains("onboard it first");
    assertThat(stages.tokenIssuer().issued()).isEmpty();
  }

  @Test
  void refusesARefreshMarginNotShorterThanTheLifetime() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> pipeline().tokenRefreshMargin(Duration.ofHours(24)).build())
        .hasMessageContaining("tokenRefreshMargin");
  }
}
