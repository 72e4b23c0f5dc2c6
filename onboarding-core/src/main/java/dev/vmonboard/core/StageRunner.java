package dev.vmonboard.core;

import dev.vmonboard.core.internal.DefaultStageContext;
import dev.vmonboard.core.internal.SharedResources;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs the stages of one workload's run, on the run's thread: each attempt watched by the {@link
 * StageWatchdog} against the stage's timeout (and the run's deadline), transient failures retried
 * with backoff, every attempt reported as events and summed up as a {@link StageResult}.
 */
final class StageRunner {

  private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);

  private final PipelineSettings settings;
  private final WorkloadRef workload;
  private final Optional<Instant> runDeadline;
  private final SharedResources resources;
  private final Redactor redactor;
  private final BooleanSupplier cancelled;
  private final Consumer<RunStopped> abandoned;
  private final List<StageResult> results = new ArrayList<>();
  private volatile String host;
  private volatile StageWatchdog.Watch current;

  StageRunner(
      PipelineSettings settings,
      WorkloadRef workload,
      Optional<Instant> runDeadline,
      SharedResources resources,
      Redactor redactor,
      BooleanSupplier cancelled,
      Consumer<RunStopped> abandoned) {
    this.settings = settings;
    this.workload = workload;
    this.runDeadline = runDeadline;
    this.resources = resources;
    this.redactor = redactor;
    this.cancelled = cancelled;
    this.abandoned = abandoned;
  }

  /** The host of the VM, once known: named in failures of stages that reach the VM. */
  void host(String host) {
    this.host = host;
  }

  synchronized List<StageResult> results() {
    return List.copyOf(results);
  }

  /** Records a stage that was not needed. */
  synchronized void skipped(Stage stage, String why) {
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
   * @throws StageWatchdog.Abandoned when an attempt ignored its interrupt and the run was reported
   *     as ended without it
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
      int thisAttempt = attempt;
      Attempt<T> ended =
          attempt(
              stage,
              deadline,
              action,
              () ->
                  abandoned.accept(
                      stop(
                          stage,
                          thisAttempt,
                          attemptStart,
                          stageStart,
                          interruptedOutcome(runDeadlineBinds),
                          interruptedFailure(stage, runDeadlineBinds, true),
                          false)));
      if (ended.interrupted()) {
        throw stop(
            stage,
            attempt,
            attemptStart,
            stageStart,
            interruptedOutcome(runDeadlineBinds),
            interruptedFailure(stage, runDeadlineBinds, false),
            false);
      }
      if (ended.failure() == null) {
        Duration took = since(attemptStart);
        emit(new OnboardingEvent.StageSucceeded(workload, stage, attempt, took, Instant.now()));
        record(stage, StageResult.Outcome.SUCCEEDED, attempt, stageStart, null);
        return ended.value();
      }
      OnboardingException failure = locate(stage, ended.failure());
      boolean retry = failure.isTransient() && attempt < settings.retryPolicy().maxAttempts();
      if (!retry) {
        throw stop(
            stage, attempt, attemptStart, stageStart, StageResult.Outcome.FAILED, failure, false);
      }
      emit(
          new OnboardingEvent.StageFailed(
              workload, stage, attempt, since(attemptStart), failure, true, Instant.now()));
      backoff(stage, attempt, stageStart, ended.failure());
    }
  }

  /** How an attempt that was interrupted ends: cancelled (by the caller or the run's deadline). */
  private StageResult.Outcome interruptedOutcome(boolean runDeadlineBinds) {
    return cancelled.getAsBoolean() || runDeadlineBinds
        ? StageResult.Outcome.CANCELLED
        : StageResult.Outcome.TIMED_OUT;
  }

  private OnboardingException interruptedFailure(
      Stage stage, boolean runDeadlineBinds, boolean abandoned) {
    String leftBehind =
        abandoned ? "; it ignored the interrupt, so the run stopped waiting for it" : "";
    if (cancelled.getAsBoolean()) {
      return located(stage, "cancelled" + leftBehind, null, false, null);
    }
    if (runDeadlineBinds) {
      return located(
          stage, "the run's deadline passed" + leftBehind, "allow the run more time", false, null);
    }
    return located(
        stage,
        "did not finish within " + human(settings.timeoutFor(stage)) + leftBehind,
        "check that the "
            + (reachesVm(stage) && host != null ? "host" : "service")
            + " answers, or raise the stage timeout",
        false,
        null);
  }

  /**
   * Runs {@code action}, a clean-up that belongs to {@code stage} (which has already succeeded) and
   * must not fail the run: once, within the stage's timeout and the run's deadline. When it fails
   * or does not finish, the run goes on: the failure is logged as a warning, reported as progress
   * of the stage and added to the stage's result as its detail. (A clean-up that ignores its
   * interrupt holds the run's thread: the run is then reported as failed at {@code stage}.)
   *
   * @param what what the clean-up does, in a few words ("drop the previous bundle")
   */
  void bestEffort(Stage stage, String what, Consumer<StageContext> action) {
    Instant deadline = deadline(stage);
    String problem;
    if (cancelled.getAsBoolean()
        || Thread.currentThread().isInterrupted()
        || !Instant.now().isBefore(deadline)) {
      problem = "not done: the run was cancelled or its deadline passed";
    } else {
      Attempt<Void> ended =
          attempt(
              stage,
              deadline,
              context -> {
                action.accept(context);
                return null;
              },
              () -> {
                String stuck = "could not " + what + ": it ignored the interrupt at its deadline";
                LOG.warn("{}: {}", workload, stuck);
                emit(new OnboardingEvent.StageProgress(workload, stage, stuck, Instant.now()));
                annotate(stage, stuck);
                abandoned.accept(
                    new RunStopped(
                        located(stage, stuck, "raise the stage timeout", false, null),
                        StageResult.Outcome.FAILED));
              });
      if (ended.interrupted()) {
        problem = cancelled.getAsBoolean() ? "cancelled" : "did not finish in time";
      } else if (ended.failure() != null) {
        problem = locate(stage, ended.failure()).problem();
      } else {
        return;
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
  synchronized void annotate(Stage stage, String detail) {
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

  /** Interrupts the attempt in progress, if any: the run was cancelled. */
  void cancelCurrentAttempt() {
    StageWatchdog.Watch watch = current;
    if (watch != null) {
      watch.cancel();
    }
  }

  /** What one attempt gave: its value or its failure, or that it was interrupted. */
  private record Attempt<T>(T value, Throwable failure, boolean interrupted) {}

  /**
   * Runs one attempt of {@code stage} on this thread, watched: interrupted at {@code deadline} (or
   * when the run is cancelled) and, if it ignores that, abandoned with {@code abandon}.
   */
  private <T> Attempt<T> attempt(
      Stage stage, Instant deadline, Function<StageContext, T> action, Runnable abandon) {
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
    StageWatchdog.Watch watch =
        StageWatchdog.start(System.nanoTime() + nanosUntil(deadline), abandon);
    current = watch;
    if (cancelled.getAsBoolean()) {
      watch.cancel();
    }
    MDC.put("workload", workload.toString());
    MDC.put("stage", stage.name());
    if (stageHost != null) {
      MDC.put("host", stageHost);
    }
    T value = null;
    Throwable failure = null;
    try {
      value = action.apply(context);
    } catch (Throwable e) { // an Error in a stage is reported like any defect of the stage
      failure = e;
    } finally {
      MDC.remove("workload");
      MDC.remove("stage");
      MDC.remove("host");
      current = null;
    }
    boolean interrupted = watch.end();
    if (interrupted && !cancelled.getAsBoolean()) {
      Thread.interrupted(); // the watchdog's, for this attempt only
    }
    return new Attempt<>(value, failure, interrupted);
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
    boolean interrupted = cancelled.getAsBoolean() || Thread.currentThread().isInterrupted();
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

  private synchronized void record(
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
