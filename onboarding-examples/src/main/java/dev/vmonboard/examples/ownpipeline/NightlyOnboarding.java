package dev.vmonboard.examples.ownpipeline;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingException;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host application's own onboarding job, written against the SDK's front door only: onboard every
 * VM a selector covers, give the VMs whose failure may go away (network, API server) one more
 * round, and report. Whatever stages the pipeline was assembled from, this code stays the same:
 * {@code NightlyOnboardingTest} runs it on the SDK's in-memory test kit.
 */
public final class NightlyOnboarding {

  private final OnboardingPipeline pipeline;

  public NightlyOnboarding(OnboardingPipeline pipeline) {
    this.pipeline = pipeline;
  }

  /** What a run did. */
  public record Report(List<WorkloadRef> onboarded, List<String> failures, int rounds) {

    /** Whether every VM ended onboarded. */
    public boolean allOnboarded() {
      return failures.isEmpty();
    }
  }

  /** Onboards every workload {@code selector} covers, in at most two rounds. */
  public Report run(WorkloadSelector selector) {
    List<WorkloadRef> onboarded = new ArrayList<>();
    Map<WorkloadRef, OnboardingResult> failed = new LinkedHashMap<>();
    collect(pipeline.onboardAll(selector), onboarded, failed);
    List<WorkloadRef> again =
        failed.values().stream()
            .filter(result -> result.failure().map(OnboardingException::isTransient).orElse(false))
            .map(OnboardingResult::workload)
            .toList();
    int rounds = 1;
    if (!again.isEmpty()) {
      rounds = 2;
      again.forEach(failed::remove);
      collect(pipeline.onboardAll(again), onboarded, failed);
    }
    List<String> failures = new ArrayList<>();
    for (OnboardingResult result : failed.values()) {
      failures.add(result.failure().map(Throwable::getMessage).orElse(result.toString()));
    }
    return new Report(List.copyOf(onboarded), List.copyOf(failures), rounds);
  }

  private static void collect(
      FleetResult fleet, List<WorkloadRef> onboarded, Map<WorkloadRef, OnboardingResult> failed) {
    for (OnboardingResult result : fleet.results()) {
      if (result.isSuccess()) {
        onboarded.add(result.workload());
      } else {
        failed.put(result.workload(), result);
      }
    }
  }
}
