package dev.vmonboard.core;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A bounded, failure-tolerant run over many workloads: at most {@code concurrency} in flight, one
 * result per workload in input order, progress events as they finish. Interrupting the calling
 * thread (or the run's deadline) cancels what is in flight and what has not started.
 */
final class FleetRun {

  private final PipelineSettings settings;
  private final List<WorkloadRef> refs;
  private final OnboardingResult.Operation operation;
  private int done;
  private int failed;

  FleetRun(
      PipelineSettings settings, List<WorkloadRef> refs, OnboardingResult.Operation operation) {
    this.settings = settings;
    this.refs = refs;
    this.operation = operation;
  }

  FleetResult run(Function<WorkloadRef, OnboardingResult> perWorkload) {
    long start = System.nanoTime();
    int threads = Math.max(1, Math.min(settings.concurrency(), refs.size()));
    ExecutorService workers =
        Executors.newFixedThreadPool(threads, StageRunner.daemonThreads("vmonboard-fleet-"));
    List<Future<OnboardingResult>> futures = new ArrayList<>(refs.size());
    try {
      for (WorkloadRef ref : refs) {
        futures.add(
            workers.submit(
                () -> {
                  OnboardingResult result = perWorkload.apply(ref);
                  progress(result);
                  return result;
                }));
      }
      List<OnboardingResult> results = new ArrayList<>(refs.size());
      boolean cancelled = false;
      for (int i = 0; i < refs.size(); i++) {
        WorkloadRef ref = refs.get(i);
        Future<OnboardingResult> future = futures.get(i);
        if (cancelled) {
          results.add(collectAfterCancel(ref, future));
          continue;
        }
        try {
          results.add(future.get());
        } catch (InterruptedException e) {
          cancelled = true;
          for (Runnable notStarted : workers.shutdownNow()) {
            ((Future<?>) notStarted).cancel(false);
          }
          results.add(collectAfterCancel(ref, future));
        } catch (ExecutionException e) {
          results.add(crashed(ref, e.getCause()));
        }
      }
      if (cancelled) {
        Thread.currentThread().interrupt();
      }
      return FleetResult.of(results, StageRunner.since(start));
    } finally {
      workers.shutdownNow();
    }
  }

  private OnboardingResult collectAfterCancel(WorkloadRef ref, Future<OnboardingResult> future) {
    try {
      return future.get(10, TimeUnit.SECONDS);
    } catch (CancellationException | InterruptedException | TimeoutException e) {
      return cancelledBeforeStart(ref);
    } catch (ExecutionException e) {
      return crashed(ref, e.getCause());
    }
  }

  /** Reports progress; serialised so that listeners see the counts only ever grow. */
  private synchronized void progress(OnboardingResult result) {
    done++;
    if (!result.isSuccess()) {
      failed++;
    }
    settings
        .listeners()
        .emit(new OnboardingEvent.FleetProgress(done, failed, refs.size(), Instant.now()));
  }

  private OnboardingResult cancelledBeforeStart(WorkloadRef ref) {
    return OnboardingResult.builder()
        .workload(ref)
        .operation(operation)
        .outcome(OnboardingResult.Outcome.CANCELLED)
        .duration(Duration.ZERO)
        .failure(
            new OnboardingException(
                ref, null, null, "cancelled before it started", null, false, null))
        .build();
  }

  private OnboardingResult crashed(WorkloadRef ref, Throwable error) {
    return OnboardingResult.builder()
        .workload(ref)
        .operation(operation)
        .outcome(OnboardingResult.Outcome.FAILED)
        .duration(Duration.ZERO)
        .failure(
            new OnboardingException(
                ref,
                null,
                null,
                "unexpected " + error,
                "this is a defect of the SDK; please report it",
                false,
                error))
        .build();
  }
}
