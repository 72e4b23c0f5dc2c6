package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadRef;
import java.util.List;

/** Reads what a controller did from the events a test collected. */
final class ControllerEvents {

  private ControllerEvents() {}

  /** The results for {@code workload} of {@code operation}, with {@code outcome} unless null. */
  static List<OnboardingResult> results(
      List<ControllerEvent> events,
      WorkloadRef workload,
      OnboardingResult.Operation operation,
      OnboardingResult.Outcome outcome) {
    return events.stream()
        .filter(ControllerEvent.Reconciled.class::isInstance)
        .map(ControllerEvent.Reconciled.class::cast)
        .filter(event -> event.workload().equals(workload))
        .map(ControllerEvent.Reconciled::result)
        .filter(result -> result.operation() == operation)
        .filter(result -> outcome == null || result.outcome() == outcome)
        .toList();
  }
}
