package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * The result of one workload's run: how it ended, what each stage did and how long it took, and the
 * failure (located: workload, stage, host) when there was one.
 */
@Value.Immutable
@ValueStyle
public abstract class OnboardingResult {

  OnboardingResult() {}

  /** What the run was for. */
  public enum Operation {
    /** Bring the VM into the mesh. */
    ONBOARD,
    /** Take the VM out of the mesh. */
    OFFBOARD,
    /** Replace a token close to expiry, without restarting the proxy. */
    REFRESH_TOKEN,
    /** Only plan (dry run). */
    PLAN
  }

  /** How the run ended. */
  public enum Outcome {
    /** Everything done. */
    SUCCEEDED,
    /** Nothing needed doing: the VM already had this bundle, a running proxy, a fresh token. */
    UNCHANGED,
    /** A dry run that produced its plan. */
    PLANNED,
    /** A stage failed; {@link #failure()} says which and why. */
    FAILED,
    /** Stopped by cancellation before finishing. */
    CANCELLED
  }

  /** The workload. */
  public abstract WorkloadRef workload();

  /** What the run was for. */
  public abstract Operation operation();

  /** How it ended. */
  public abstract Outcome outcome();

  /** Per stage, in the order run: outcome, attempts, duration. */
  public abstract List<StageResult> stages();

  /** Total time of this workload's run. */
  public abstract Duration duration();

  /** The failure, when the run failed or was cancelled. */
  public abstract Optional<OnboardingException> failure();

  /** The plan the run followed (or, for a dry run, would follow). */
  public abstract Optional<OnboardingPlan> plan();

  /** Where the VM was reached, when it was. */
  public abstract Optional<Target> target();

  /** The proxy's status after launch, when a launcher ran. */
  public abstract Optional<ProxyStatus> proxyStatus();

  /** The content hash of the delivered bundle (without the token). */
  public abstract Optional<String> bundleHash();

  /** When the delivered token expires. */
  public abstract Optional<Instant> tokenExpiresAt();

  /** Whether the run achieved what it was for (succeeded, unchanged or planned). */
  public final boolean isSuccess() {
    return outcome() == Outcome.SUCCEEDED
        || outcome() == Outcome.UNCHANGED
        || outcome() == Outcome.PLANNED;
  }

  /** The result of {@code stage}, if it ran. */
  public final Optional<StageResult> stage(Stage stage) {
    return stages().stream().filter(result -> result.stage() == stage).findFirst();
  }

  /** The stage that failed, if one did. */
  public final Optional<Stage> failedStage() {
    return failure().flatMap(OnboardingException::stage);
  }

  /**
   * This result when it is a success.
   *
   * @throws OnboardingException the failure otherwise
   */
  public final OnboardingResult orThrow() {
    if (!isSuccess()) {
      throw failure()
          .orElseGet(
              () ->
                  new OnboardingException(
                      workload(), null, null, "run ended " + outcome(), null, false, null));
    }
    return this;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link OnboardingResult}s. */
  public static final class Builder extends ImmutableOnboardingResult.Builder {
    Builder() {}
  }

  @Override
  public String toString() {
    return workload()
        + " "
        + operation()
        + " "
        + outcome()
        + " in "
        + duration().toMillis()
        + " ms"
        + failure().map(failure -> ": " + failure.getMessage()).orElse("");
  }
}
