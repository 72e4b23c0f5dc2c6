package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.time.Duration;
import java.util.Optional;
import org.immutables.value.Value;

/** What happened in one stage of one workload's run. */
@Value.Immutable
@ValueStyle
public abstract class StageResult {

  StageResult() {}

  /** How a stage ended. */
  public enum Outcome {
    /** Done. */
    SUCCEEDED,
    /** Failed after its last attempt. */
    FAILED,
    /** Did not finish within its timeout. */
    TIMED_OUT,
    /** Stopped by cancellation (interrupt or run deadline). */
    CANCELLED,
    /** Not needed: nothing to do (e.g. an unchanged VM, an already removed bundle). */
    SKIPPED
  }

  /** The stage. */
  public abstract Stage stage();

  /** How it ended. */
  public abstract Outcome outcome();

  /** Attempts made (1 without retries). */
  @Value.Default
  public int attempts() {
    return 1;
  }

  /** Time spent, retries and backoff included. */
  public abstract Duration duration();

  /** What the stage did or why it was skipped, in a few words (never a secret). */
  public abstract Optional<String> detail();

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link StageResult}s. */
  public static final class Builder extends ImmutableStageResult.Builder {
    Builder() {}
  }

  @Override
  public String toString() {
    return stage()
        + " "
        + outcome()
        + " in "
        + duration().toMillis()
        + " ms"
        + (attempts() > 1 ? " (" + attempts() + " attempts)" : "")
        + detail().map(text -> ": " + text).orElse("");
  }
}
