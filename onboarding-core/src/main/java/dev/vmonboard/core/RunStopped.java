package dev.vmonboard.core;

/** Ends a workload's run early: a stage failed, timed out or was cancelled. Internal. */
final class RunStopped extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient OnboardingException failure;
  private final StageResult.Outcome stageOutcome;

  RunStopped(OnboardingException failure, StageResult.Outcome stageOutcome) {
    super(failure.getMessage(), null, false, false);
    this.failure = failure;
    this.stageOutcome = stageOutcome;
  }

  OnboardingException failure() {
    return failure;
  }

  /** The same stop, reporting {@code failure} instead (the same stage's, with more said). */
  RunStopped reporting(OnboardingException failure) {
    return new RunStopped(failure, stageOutcome);
  }

  boolean cancelled() {
    return stageOutcome == StageResult.Outcome.CANCELLED;
  }
}
