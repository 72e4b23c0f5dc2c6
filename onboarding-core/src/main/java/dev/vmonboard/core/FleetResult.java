package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.time.Duration;
import java.util.List;
import org.immutables.value.Value;

/** The results of a fleet run: one per workload, in the order the workloads were given. */
@Value.Immutable
@ValueStyle
public abstract class FleetResult {

  FleetResult() {}

  /** One result per workload. */
  public abstract List<OnboardingResult> results();

  /** Wall time of the whole run. */
  public abstract Duration duration();

  /** The results that are not a success (failed or cancelled). */
  @Value.Lazy
  public List<OnboardingResult> failures() {
    return results().stream().filter(result -> !result.isSuccess()).toList();
  }

  /** How many workloads succeeded (unchanged and planned ones included). */
  public final int successCount() {
    return results().size() - failures().size();
  }

  /** Whether every workload succeeded. */
  public final boolean allSucceeded() {
    return failures().isEmpty();
  }

  /** A fleet result. */
  public static FleetResult of(List<OnboardingResult> results, Duration duration) {
    return ImmutableFleetResult.builder().results(results).duration(duration).build();
  }

  @Override
  public String toString() {
    return results().size()
        + " workloads: "
        + successCount()
        + " succeeded, "
        + failures().size()
        + " failed, in "
        + duration().toMillis()
        + " ms";
  }
}
