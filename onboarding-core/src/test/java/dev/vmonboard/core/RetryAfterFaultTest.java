package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.testing.Fault;
import dev.vmonboard.core.testing.InMemoryStages;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A stage's transient failure that asks for a wait (Retry-After) is retried no sooner. */
class RetryAfterFaultTest {

  private static final WorkloadRef VM = WorkloadRef.of("ns", "vm-1");

  private final InMemoryStages stages = InMemoryStages.create();

  private OnboardingPipeline.Builder pipeline() {
    stages.registrar().add(Fixtures.vm("ns", "vm-1", "10.0.0.1"));
    return Fixtures.pipeline(stages)
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(2)));
  }

  @Test
  void waitsAsLongAsTheFailureAsksThoughTheBackoffIsShorter() {
    stages.tokenIssuer().failWith(Fault.failTransiently(1, "throttled", Duration.ofMillis(400)));

    OnboardingResult result = pipeline().build().onboard(VM);

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    StageResult issue = result.stage(Stage.ISSUE_TOKEN).orElseThrow();
    assertThat(issue.attempts()).isEqualTo(2);
    assertThat(issue.duration()).isGreaterThanOrEqualTo(Duration.ofMillis(400));
  }

  @Test
  void theRunDeadlineCutsAWaitThatWouldOutlastIt() {
    stages.transport().failWith(Fault.failTransiently(5, "throttled", Duration.ofMinutes(10)));

    long start = System.nanoTime();
    OnboardingResult result = pipeline().runTimeout(Duration.ofSeconds(1)).build().onboard(VM);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(result.outcome()).isEqualTo(OnboardingResult.Outcome.CANCELLED);
    assertThat(result.failure().orElseThrow().getMessage()).contains("deadline");
  }

  @Test
  void aNegativeWaitIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> StageException.transientFailure("x", null, Duration.ofSeconds(-1), null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
