package dev.vmonboard.core;

import dev.vmonboard.core.internal.DefaultStageContext;
import dev.vmonboard.core.internal.SharedResources;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs the stages of one workload's run: each attempt on a stage thread bounded by the stage's
 * timeout (and the run's deadline), transient failures retried with backoff, every attempt reported
 * as events and summed up as a {@link StageResult}.
 */
final class StageRunner {

  private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);

  private static final ExecutorService STAGE_THREADS =
      Executors.newCachedThreadPool(daemonThreads("vmonboard-stage-"));

  private final PipelineSettings settings;
  private final WorkloadRef workload;
  private final Optional<Instant> runDeadline;
  private final SharedResources resources;
  private final Redactor redactor;
  private final List<StageResult> results = new ArrayList<>();
  private String host;

  StageRunner(
      PipelineSettings settings,
      WorkloadRef workload,
      Optional<Instant> runDeadline,
      SharedResources resources,
      Redactor redactor) {
    this.settings = settings;
    this.workload = workload;
    this.runDeadline = runDeadline;
    this.resources = resources;
    this.redactor = redactor;
  }

  /** The host of the VM, once known: named in failures of stages that reach the VM. */
  void host(String host) {
    this.host = host;
  }

  List<StageResult> results() {
    return List.copyOf(results);
  }

  /** Records a stage that was not needed. */
  void skipped(Stage stage, String why) {
    results.add(
        StageResult.builder()
            .stage(stage)
            .outcome(StageResult.Outcome.SKIPPED)
            .attempts(0)
            .duration(Duration.ZERO)
            .detail(why)
            .build());
  }

  /**
   * Runs {@code action} as {@code stage}.
   *
   * @throws RunStopped when the stage finally fails, times out or is cancelled
   */
  <T> T run(Stage stage, Function<StageContext, T> action) {
    long stageStart = System.nanoTime();
    int attempt = 0;
    while (true) {
      attempt++;
      checkNotCancelled(stage, attempt, stageStart);
      Instant deadline = deadline(stage);
      boolean runDeadlineBinds = runDeadline.isPresent() && deadline.equals(runDeadline.get());
      emit(new OnboardingEvent.StageStarted(workload, stage, attempt, Instant.now()));
      long attemptStart = System.nanoTime();
      String stageHost = reachesVm(stage) ? host : null;
      Future<T> future = submit(stage, deadline, action);
      try {
        T value = future.get(nanosUntil(deadline), TimeUnit.NANOSECONDS);
        Duration took = since(attemptStart);
        emit(new OnboardingEvent.StageSucceeded(workload, stage, attempt, took, Instant.now()));
        record(stage, StageResult.Outcome.SUCCEEDED, attempt, stageStart, null);
        return value;
      } catch (TimeoutException e) {
        future.cancel(true);
        if (runDeadlineBinds) {
          throw stop(
              stage,
              attempt,
              attemptStart,
              stageStart,
              StageResult.Outcome.CANCELLED,
              located(stage, "the run's deadline passed", "allow the run more time", false, null),
              false);
        }
        throw stop(
            stage,
            attempt,
            attemptStart,
            stageStart,
            StageResult.Outcome.TIMED_OUT,
            located(
                stage,
                "did not finish within " + human(settings.timeoutFor(stage)),
                "check that the "
                    + (stageHost != null ? "host" : "service")
                    + " answers, or raise the stage timeout",
                false,
                null),
            false);
      } catch (InterruptedException e) {
        future.cancel(true);
        Thread.currentThread().interrupt();
        throw stop(
            stage,
            attempt,
            attemptStart,
            stageStart,
            StageResult.Outcome.CANCELLED,
            located(stage, "cancelled", null, false, null),
            false);
      } catch (ExecutionException e) {
        OnboardingException failure = locate(stage, e.getCause());
        boolean retry = failure.isTransient() && attempt < settings.retryPolicy().maxAttempts();
        if (!retry) {
          throw stop(
              stage, attempt, attemptStart, stageStart, StageResult.Outcome.FAILED, failure, false);
        }
        emit(
            new OnboardingEvent.StageFailed(
                workload, stage, attempt, since(attemptStart), failure, true, Instant.now()));
        backoff(stage, attempt, stageStart, e.getCause());
      }
    }
  }

  /**
   * Runs {@code action}, a clean-up that belongs to {@code stage} (which has already succeeded) and
   * must not fail the run: once, on a stage thread, within the stage's timeout and the run's
   * deadline. When it fails or does not finish, the run goes on: the failure is logged as a
   * warning, reported as progress of the stage and added to the stage's result as its detail.
   *
   * @param what what the clean-up does, in a few words ("drop the previous bundle")
   */
  void bestEffort(Stage stage, String what, Consumer<StageContext> action) {
    Instant deadline = deadline(stage);
    String problem;
    if (Thread.currentThread().isInterrupted() || !Instant.now().isBefore(deadline)) {
      problem = "not done: the run was cancelled or its deadline passed";
    } else {
      Future<Void> future =
          submit(
              stage,
              deadline,
              context -> {
                action.accept(context);
                return null;
              });
      try {
        future.get(nanosUntil(deadline), TimeUnit.NANOSECONDS);
        return;
      } catch (TimeoutException e) {
        future.cancel(true);
        problem = "did not finish in time";
      } catch (InterruptedException e) {
        future.cancel(true);
        Thread.currentThread().interrupt();
        problem = "cancelled";
      } catch (ExecutionException e) {
        problem = locate(stage, e.getCause()).problem();
      }
    }
    String warning = "could not " + what + ": " + redactor.redact(problem);
    LOG.warn("{}: {}", workload, warning);
    emit(new OnboardingEvent.StageProgress(workload, stage, warning, Instant.now()));
    annotate(stage, warning);
  }

  /**
   * Adds {@code detail} to the detail of {@code stage}'s latest result (what it did, or a warning
   * about a clean-up that belongs to it).
   */
  void annotate(Stage stage, String detail) {
    for (int i = results.size() - 1; i >= 0; i--) {
      StageResult recorded = results.get(i);
      if (recorded.stage() == stage) {
        String text = recorded.detail().map(d -> d + "; " + detail).orElse(detail);
        results.set(i, StageResult.builder().from(recorded).detail(text).build());
        return;
      }
    }
    throw new IllegalStateException(stage + " has no result to annotate");
  }

  /** Starts one attempt of {@code stage} on a stage thread, with its context and logging keys. */
  private <T> Future<T> submit(Stage stage, Instant deadline, Function<StageContext, T> action) {
    StageContext context =
        new DefaultStageContext(
            workload,
            stage,
            deadline,
            resources,
            message ->
                emit(
                    new OnboardingEvent.StageProgress(
                        workload, stage, redactor.redact(message), Instant.now())));
    String stageHost = reachesVm(stage) ? host : null;
    return STAGE_THREADS.submit(
        () -> {
          MDC.put("workload", workload.toString());
          MDC.put("stage", stage.name());
          if (stageHost != null) {
            MDC.put("host", stageHost);
          }
          try {
            return action.apply(context);
          } finally {
            MDC.clear();
          }
        });
  }

  /** When an attempt of {@code stage} starting now must end: its timeout, or the run's deadline. */
  private Instant deadline(Stage stage) {
    Instant stageDeadline = Instant.now().plus(settings.timeoutFor(stage));
    return runDeadline.filter(run -> run.isBefore(stageDeadline)).orElse(stageDeadline);
  }

  private static long nanosUntil(Instant deadline) {
    return Math.max(0, Duration.between(Instant.now(), deadline).toNanos());
  }

  private void checkNotCancelled(Stage stage, int attempt, long stageStart) {
    boolean interrupted = Thread.currentThread().isInterrupted();
    boolean pastDeadline = runDeadline.isPresent() && !Instant.now().isBefore(runDeadline.get());
    if (interrupted || pastDeadline) {
      throw cancelled(
          stage,
          attempt,
          stageStart,
          interrupted ? "cancelled before it started" : "the run's deadline passed",
          null);
    }
  }

  private void backoff(Stage stage, int attempt, long stageStart, Throwable failure) {
    Duration wait = settings.retryPolicy().backoffAfter(attempt, failure);
    boolean cutByRunDeadline =
        runDeadline.isPresent() && Instant.now().plus(wait).isAfter(runDeadline.get());
    if (cutByRunDeadline) {
      wait = Duration.between(Instant.now(), runDeadline.get());
    }
    try {
      if (!wait.isNegative()) {
        Thread.sleep(wait.toMillis());
      }
      // The run ends with the wait: a sleep rounded down to the millisecond must not leave time
      // for one more quick attempt that would report the stage as failed instead of cut short.
      if (cutByRunDeadline) {
        throw cancelled(
            stage,
            attempt,
            stageStart,
            "the run's deadline passed while waiting to retry",
            "allow the run more time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw cancelled(stage, attempt, stageStart, "cancelled while waiting to retry", null);
    }
  }

  /** Ends {@code stage} as cancelled, between attempts. */
  private RunStopped cancelled(
      Stage stage, int attempt, long stageStart, String problem, String hint) {
    return stop(
        stage,
        attempt,
        System.nanoTime(),
        stageStart,
        StageResult.Outcome.CANCELLED,
        located(stage, problem, hint, false, null),
        false);
  }

  private RunStopped stop(
      Stage stage,
      int attempt,
      long attemptStart,
      long stageStart,
      StageResult.Outcome outcome,
      OnboardingException failure,
      boolean willRetry) {
    emit(
        new OnboardingEvent.StageFailed(
            workload, stage, attempt, since(attemptStart), failure, willRetry, Instant.now()));
    record(stage, outcome, attempt, stageStart, failure.problem());
    return new RunStopped(failure, outcome);
  }

  private void record(
      Stage stage, StageResult.Outcome outcome, int attempts, long stageStart, String detail) {
    StageResult.Builder result =
        StageResult.builder()
            .stage(stage)
            .outcome(outcome)
            .attempts(attempts)
            .duration(since(stageStart));
    if (detail != null) {
      result.detail(detail);
    }
    results.add(result.build());
  }

  /** A failure thrown by a stage, located and with secrets masked. */
  OnboardingException locate(Stage stage, Throwable error) {
    if (error instanceof InvalidInputException invalid) {
      return invalid.locatedIn(workload, stage, "input");
    }
    if (error instanceof StageException stageError) {
      return located(
          stage,
          stageError.getMessage(),
          stageError.hint().orElse(null),
          stageError.isTransient(),
          stageError);
    }
    return located(
        stage,
        "unexpected " + error,
        "this is a defect of the " + stage.component() + " implementation; please report it",
        false,
        error);
  }

  private OnboardingException located(
      Stage stage, String problem, String hint, boolean transientFailure, Throwable cause) {
    return new OnboardingException(
        workload,
        stage,
        reachesVm(stage) ? host : null,
        redactor.redact(problem == null ? "failed" : problem),
        redactor.redact(hint),
        transientFailure,
        redactor.sanitize(cause));
  }

  private void emit(OnboardingEvent event) {
    settings.listeners().emit(event);
  }

  static boolean reachesVm(Stage stage) {
    return stage == Stage.DELIVER
        || stage == Stage.LAUNCH
        || stage == Stage.ROLLBACK
        || stage == Stage.STOP_PROXY
        || stage == Stage.REMOVE_BUNDLE;
  }

  static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  static String human(Duration duration) {
    if (duration.toMillis() < 1000) {
      return duration.toMillis() + " ms";
    }
    if (duration.toSeconds() < 120) {
      return duration.toSeconds() + " s";
    }
    return duration.toMinutes() + " min";
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
