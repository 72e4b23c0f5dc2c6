package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What a run does for one workload, step by step: the objects it registers, the files it writes
 * (with modes), the commands it runs. A dry run returns it without doing any of it; a real run
 * executes the same steps. Secrets are always redacted.
 */
@Value.Immutable
@ValueStyle
public abstract class OnboardingPlan {

  OnboardingPlan() {}

  /** The workload. */
  public abstract WorkloadRef workload();

  /** The VM, when the plan reaches one. */
  public abstract Optional<Target> target();

  /** The bundle's files, one line each ({@code 0600 istio-token (secret, redacted)}). */
  public abstract List<String> files();

  /** The content hash of the bundle (without the token). */
  public abstract Optional<String> bundleHash();

  /** The steps, in order. */
  public abstract List<Step> steps();

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link OnboardingPlan}s. */
  public static final class Builder extends ImmutableOnboardingPlan.Builder {
    Builder() {}
  }

  /** One stage's part of the plan. */
  @Value.Immutable
  @ValueStyle
  public abstract static class Step {
    Step() {}

    /** The stage. */
    @Value.Parameter
    public abstract Stage stage();

    /** What it does, one action per line. */
    @Value.Parameter
    public abstract List<String> actions();

    /** A step. */
    public static Step of(Stage stage, List<String> actions) {
      return ImmutableStep.of(stage, actions);
    }
  }

  /** The plan as text, as a dry run prints it. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    text.append("plan for ").append(workload());
    target().ifPresent(target -> text.append(" on ").append(target));
    text.append('\n');
    int number = 1;
    for (Step step : steps()) {
      text.append(number++)
          .append(". ")
          .append(step.stage().description())
          .append(" (")
          .append(step.stage().component())
          .append(")\n");
      for (String action : step.actions()) {
        text.append("     ").append(action).append('\n');
      }
    }
    return text.toString();
  }
}
