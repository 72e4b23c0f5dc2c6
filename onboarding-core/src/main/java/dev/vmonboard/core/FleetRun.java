package dev.vmonboard.core;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
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
  private int threads;
  private int lent;

  FleetRun(
      PipelineSettings settings, List<WorkloadRef> refs, OnboardingResult.Operation operation) {
    this.settings = settings;
    this.refs = refs;
    this.operation = operation;
  }

  /**
   * Runs {@code operation} on a run made by {@code newRun} for every workload, each run on one of
   * {@code concurrency} worker threads from start to end (no hand-over between its stages).
   */
  FleetResult run(
      Function<WorkloadRef, WorkloadRun> newRun,
      Function<WorkloadRun, OnboardingResult> operation) {
    long start = System.nanoTime();
    threads = Math.max(1, Math.min(settings.concurrency(), refs.size()));
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            StageRunner.daemonThreads("vmonboard-fleet-"));
    List<WorkloadRun> runs = new ArrayList<>(refs.size());
    // A run's progress event is emitted by a dependent of its result: waiting for the results
    // alone could return before the last event was emitted (a dependent runs after the result is
    // set, and allOf's may run first), so the fleet waits for these.
    List<CompletableFuture<Void>> reported = new ArrayList<>(refs.size());
    try {
      for (WorkloadRef ref : refs) {
        WorkloadRun run = newRun.apply(ref).whenAbandoned(() -> lend(workers));
        reported.add(
            run.finished()
                .thenAccept(
                    result -> {
                      if (run.started()) {
                        progress(result);
                      }
                    }));
        runs.add(run);
        workers.execute(
            () -> {
              run.runHere(operation);
              if (run.wasAbandoned()) {
                giveBack(workers);
              }
            });
      }
      boolean cancelled = false;
      try {
        CompletableFuture.allOf(reported.toArray(CompletableFuture[]::new)).get();
      } catch (InterruptedException e) {
        cancelled = true;
        for (WorkloadRun run : runs) {
          run.settleUnstarted(cancelledBeforeStart(run.ref()));
          run.cancel();
        }
        workers.shutdownNow();
      } catch (ExecutionException e) {
        // a run's operation threw: reported as that workload's result below
      }
      List<OnboardingResult> results = new ArrayList<>(refs.size());
      for (WorkloadRun run : runs) {
        results.add(collect(run));
      }
      if (cancelled) {
        Thread.currentThread().interrupt();
      }
      return FleetResult.of(results, StageRunner.since(start));
    } finally {
      workers.shutdownNow();
    }
  }

  /** The result of {@code run}; after a cancel, waits (for the grace a held stage gets) for it. */
  private OnboardingResult collect(WorkloadRun run) {
    try {
      return run.finished().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException | TimeoutException e) {
      return cancelledBeforeStart(run.ref());
    } catch (ExecutionException e) {
      return crashed(run.ref(), e.getCause());
    }
  }

  /**
   * Lends the fleet one more worker while an abandoned run holds one, so that the fleet keeps its
   * concurrency; {@link #giveBack} returns it once the held thread is free again (the two may come
   * in either order).
   */
  private void lend(ThreadPoolExecutor workers) {
    resize(workers, 1);
  }

  private void giveBack(ThreadPoolExecutor workers) {
    resize(workers, -1);
  }

  private synchronized void resize(ThreadPoolExecutor workers, int delta) {
    lent += delta;
    int size = Math.max(1, threads + lent);
    if (workers.isShutdown()) {
      return;
    }
    if (size > workers.getMaximumPoolSize()) {
      workers.setMaximumPoolSize(size);
      workers.setCorePoolSize(size);
    } else {
      workers.setCorePoolSize(size);
      workers.setMaximumPoolSize(size);
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
