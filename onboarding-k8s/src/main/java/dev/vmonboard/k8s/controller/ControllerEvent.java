package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadRef;
import java.time.Duration;
import java.time.Instant;

/**
 * What the controller did, as values delivered to {@link ControllerListener}s. None carries a
 * secret: results are the pipeline's, whose messages are redacted.
 */
public sealed interface ControllerEvent {

  /** When it happened (the controller's clock). */
  Instant at();

  /**
   * A pipeline run for one WorkloadEntry ended: onboarding, token refresh or offboarding, as {@link
   * OnboardingResult#operation()} says.
   *
   * @param workload the entry
   * @param result the run's result
   * @param at when it ended
   */
  record Reconciled(WorkloadRef workload, OnboardingResult result, Instant at)
      implements ControllerEvent {}

  /**
   * An entry that was offboarded lost the controller's finalizer, so Kubernetes deletes it.
   *
   * @param workload the entry
   * @param at when
   */
  record FinalizerRemoved(WorkloadRef workload, Instant at) implements ControllerEvent {}

  /**
   * Reconciling an entry failed; it is tried again after {@code delay}.
   *
   * @param workload the entry
   * @param failures how many times in a row it failed
   * @param delay the backoff before the next try
   * @param reason the failure, without secrets
   * @param at when
   */
  record Requeued(WorkloadRef workload, int failures, Duration delay, String reason, Instant at)
      implements ControllerEvent {}

  /**
   * This replica started or stopped working (with leader election: won or lost the Lease).
   *
   * @param identity this replica's identity
   * @param active whether it now works
   * @param at when
   */
  record ActivityChanged(String identity, boolean active, Instant at) implements ControllerEvent {}
}
