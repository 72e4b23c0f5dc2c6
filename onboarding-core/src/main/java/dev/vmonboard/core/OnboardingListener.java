package dev.vmonboard.core;

/**
 * Receives {@link OnboardingEvent}s. Called from the pipeline's worker threads, possibly at the
 * same time: implementations must be thread-safe and quick. An exception thrown here is logged and
 * does not affect onboarding.
 */
@FunctionalInterface
public interface OnboardingListener {

  /** Called for every event. */
  void onEvent(OnboardingEvent event);
}
