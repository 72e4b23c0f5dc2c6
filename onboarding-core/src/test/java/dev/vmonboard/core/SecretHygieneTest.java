package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.InMemoryStages;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** The canary secret planted in every token never appears in anything the SDK produces. */
class SecretHygieneTest {

  private static final WorkloadRef BACKEND = WorkloadRef.of("ns", "backend-vm");

  private final InMemoryStages stages = InMemoryStages.create();
  private final RecordingListener listener = new RecordingListener();

  SecretHygieneTest() {
    stages.registrar().add(Fixtures.vm("ns", "backend-vm", "10.0.0.4"));
  }

  @Test
  void theTokenNeverShowsInToString() {
    BootstrapToken token = BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.now());
    Bundle bundle =
        Fixtures.MINIMAL_BUNDLES
            .build(
                Fixtures.vm("ns", "backend-vm", "10.0.0.4"),
                dev.vmonboard.core.testing.TestMeshes.typical())
            .withToken(token);

    Canary.assertAbsent("token", token.toString());
    Canary.assertAbsent("bundle", bundle.toString());
    Canary.assertAbsent("bundle file", bundle.file("istio-token").orElseThrow().toString());
    Canary.assertAbsent("manifest", bundle.manifest());
    assertThat(token.toString()).contains("****").contains("istio-ca");
  }

  @Test
  void theTokenIsNotSerializedByAccident() {
    BootstrapToken token = BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.now());
    record Holder(String name, BootstrapToken token) {}

    String json = JsonMapper.builder().build().writeValueAsString(new Holder("x", token));

    Canary.assertAbsent("JSON", json);
    assertThat(json).contains("\"name\":\"x\"");
  }

  @Test
  void theTokenNeverShowsInEventsResultsOrPlans() {
    OnboardingPipeline pipeline = Fixtures.pipeline(stages).listener(listener).build();

    OnboardingResult real = pipeline.onboard(BACKEND);
    OnboardingResult dry = pipeline.dryRun().onboard(BACKEND);

    assertThat(stages.tokenIssuer().issued().get(0).secret()).startsWith(Canary.SECRET);
    Canary.assertAbsent("events", listener.events());
    Canary.assertAbsent("result", real.toString());
    Canary.assertAbsent("plan", real.plan().orElseThrow().toString());
    Canary.assertAbsent("dry-run plan", dry.plan().orElseThrow().toString());
    Canary.assertAbsent("stage results", real.stages());
  }

  @Test
  void aStageThatPutsTheTokenInItsErrorIsRedacted() {
    Transport careless =
        new Transport() {
          @Override
          public void deliver(Bundle bundle, Target target, StageContext context) {
            String secret =
                new String(
                    bundle.file(bundle.tokenPath()).orElseThrow().content(),
                    java.nio.charset.StandardCharsets.UTF_8);
            context.progress("uploading " + secret);
            throw StageException.permanent(
                "upload of " + secret + " failed",
                "retry with " + secret,
                new IllegalStateException("inner " + secret));
          }

          @Override
          public void remove(Target target, StageContext context) {}
        };

    OnboardingResult result =
        Fixtures.pipeline(stages).transport(careless).listener(listener).build().onboard(BACKEND);

    OnboardingException failure = result.failure().orElseThrow();
    Canary.assertAbsent(failure);
    Canary.assertAbsent("events", listener.events());
    Canary.assertAbsent("result", result.toString());
    assertThat(failure.getMessage()).contains("upload of **** failed").contains("retry with ****");
    List<OnboardingEvent.StageProgress> progress =
        listener.events(OnboardingEvent.StageProgress.class);
    assertThat(progress)
        .singleElement()
        .satisfies(p -> assertThat(p.message()).isEqualTo("uploading ****"));
  }
}
