package dev.vmonboard.core;

import java.time.Duration;
import java.time.Instant;

/**
 * What the pipeline reports while it works, as immutable values delivered to {@link
 * OnboardingListener}s. No event ever carries a secret.
 */
public sealed interface OnboardingEvent
    permits OnboardingEvent.StageStarted,
        OnboardingEvent.StageProgress,
        OnboardingEvent.StageSucceeded,
        OnboardingEvent.StageFailed,
        OnboardingEvent.WorkloadFinished,
        OnboardingEvent.FleetProgress {

  /** When the event happened. */
  Instant at();

  /**
   * A stage attempt started.
   *
   * @param workload the workload
   * @param stage the stage
   * @param attempt 1 for the first try, 2 for the first retry, ...
   * @param at when
   */
  record StageStarted(WorkloadRef workload, Stage stage, int attempt, Instant at)
      implements OnboardingEvent {}

  /**
   * A stage said how far it got.
   *
   * @param workload the workload
   * @param stage the stage
   * @param message what it is doing
   * @param at when
   */
  record StageProgress(WorkloadRef workload, Stage stage, String message, Instant at)
      implements OnboardingEvent {}

  /**
   * A stage attempt succeeded.
   *
   * @param workload the workload
   * @param stage the stage
   * @param attempt which attempt
   * @param duration how long the attempt took
   * @param at when
   */
  record StageSucceeded(
      WorkloadRef workload, Stage stage, int attempt, Duration duration, Instant at)
      implements OnboardingEvent {}

  /**
   * A stage attempt failed.
   *
   * @param workload the workload
   * @param stage the stage
   * @param attempt which attempt
   * @param duration how long the attempt took
   * @param cause the located failure (its message names workload, stage and host)
   * @param willRetry whether the pipeline will try again
   * @param at when
   */
  record StageFailed(
      WorkloadRef workload,
      Stage stage,
      int attempt,
      Duration duration,
      OnboardingException cause,
      boolean willRetry,
      Instant at)
      implements OnboardingEvent {}

  /**
   * One workload's run ended.
   *
   * @param result its result
   * @param at when
   */
  record WorkloadFinished(OnboardingResult result, Instant at) implements OnboardingEvent {}

  /**
   * How far a fleet run is.
   *
   * @param done workloads finished, failed ones included
   * @param failed workloads that failed or were cancelled
   * @param total workloads in the run
   * @param at when
   */
  record FleetProgress(int done, int failed, int total, Instant at) implements OnboardingEvent {}
}
