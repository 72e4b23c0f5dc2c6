package dev.vmonboard.core;

import dev.vmonboard.core.OnboardingResult.Operation;
import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.internal.SharedResources;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One workload's onboarding or offboarding: plans every step first (the same plan a dry run
 * returns), then, unless it is a dry run, executes it stage by stage.
 */
final class WorkloadRun {

  private final PipelineSettings settings;
  private final MeshMemo mesh;
  private final boolean dryRun;
  private final Optional<Instant> runDeadline;
  private final WorkloadRef ref;
  private Workload listed;
  private final Redactor redactor = new Redactor();
  private final OnboardingResult.Builder result = OnboardingResult.builder();
  private final SharedResources resources = new SharedResources();
  private final StageRunner stages;
  private final CompletableFuture<OnboardingResult> finished = new CompletableFuture<>();
  private final AtomicReference<Start> start = new AtomicReference<>(Start.NOT_YET);
  private volatile boolean cancelled;
  private boolean abandonedHere;
  private volatile Thread runner;
  private volatile Runnable whenAbandoned = () -> {};
  private long startNanos = System.nanoTime();

  /** Whether a run has started on a thread, or was settled without ever starting. */
  private enum Start {
    NOT_YET,
    RUNNING,
    NEVER
  }

  WorkloadRun(
      PipelineSettings settings,
      MeshMemo mesh,
      boolean dryRun,
      Optional<Instant> runDeadline,
      WorkloadRef ref) {
    this.settings = settings;
    this.mesh = mesh;
    this.dryRun = dryRun;
    this.runDeadline = runDeadline;
    this.ref = ref;
    this.stages =
        new StageRunner(
            settings, ref, runDeadline, resources, redactor, () -> cancelled, this::abandoned);
  }

  /**
   * Uses {@code workload}, as the registrar listed it at the start of a fleet run, instead of
   * resolving it again: a fleet of N listed workloads costs one list call, not N + 1 calls.
   */
  WorkloadRun listed(Workload workload) {
    this.listed = workload;
    return this;
  }

  WorkloadRef ref() {
    return ref;
  }

  /** The workload as listed, or as the registrar resolves it now. */
  private Workload resolve() {
    return listed != null ? listed : settings.registrar().resolve(ref);
  }

  /** Onboards an already registered workload. */
  OnboardingResult onboard() {
    return execute(
        Operation.ONBOARD,
        stages -> {
          Workload workload = stages.run(Stage.RESOLVE, ctx -> resolve());
          return onboard(stages, workload, null);
        });
  }

  /** Registers the workload (and what the registration asks for), then onboards it. */
  OnboardingResult onboard(Registration registration) {
    return execute(
        Operation.ONBOARD, stages -> onboard(stages, registration.workload(), registration));
  }

  /**
   * Stops the proxy, removes the bundle, deregisters: in that order, stopping at a failure so that
   * the registration (which says where the VM is) stays until the VM is clean. A workload that is
   * no longer registered ends {@link Outcome#UNCHANGED}.
   */
  OnboardingResult offboard() {
    return execute(
        Operation.OFFBOARD,
        stages -> {
          Optional<Workload> found =
              stages.run(
                  Stage.RESOLVE,
                  ctx -> {
                    try {
                      return Optional.of(resolve());
                    } catch (NotFoundException e) {
                      return Optional.<Workload>empty();
                    }
                  });
          if (found.isEmpty()) {
            String why = "workload is not registered: nothing left to offboard";
            stages.skipped(Stage.STOP_PROXY, why);
            stages.skipped(Stage.REMOVE_BUNDLE, why);
            stages.skipped(Stage.DEREGISTER, why);
            return Outcome.UNCHANGED;
          }
          return offboard(stages, found.get());
        });
  }

  /** Offboards {@code workload} as given (for a VM whose registration may already be gone). */
  OnboardingResult offboard(Workload workload) {
    return execute(Operation.OFFBOARD, stages -> offboard(stages, workload));
  }

  private Outcome offboard(StageRunner stages, Workload workload) {
    Prepared prepared = prepare(stages, workload);
    stages.host(prepared.target().host());
    result.plan(
        plan(
            prepared,
            List.of(
                OnboardingPlan.Step.of(
                    Stage.STOP_PROXY,
                    settings.launcher().describeRemoval(prepared.bundle(), prepared.target())),
                OnboardingPlan.Step.of(
                    Stage.REMOVE_BUNDLE, settings.transport().describeRemoval(prepared.target())),
                OnboardingPlan.Step.of(
                    Stage.DEREGISTER, settings.registrar().describeDeregistration(ref)))));
    if (dryRun) {
      return Outcome.PLANNED;
    }
    stages.run(
        Stage.STOP_PROXY,
        ctx -> {
          settings.launcher().remove(prepared.bundle(), prepared.target(), ctx);
          return null;
        });
    stages.run(
        Stage.REMOVE_BUNDLE,
        ctx -> {
          settings.transport().remove(prepared.target(), ctx);
          return null;
        });
    stages.run(Stage.DEREGISTER, ctx -> settings.registrar().deregister(ref));
    return Outcome.SUCCEEDED;
  }

  private Outcome onboard(StageRunner stages, Workload workload, Registration registration) {
    Prepared prepared = prepare(stages, workload);
    TokenRequest tokenRequest = settings.tokenRequest();
    List<String> registrationSteps =
        registration == null
            ? List.of("read workload " + ref + " (no change)")
            : settings.registrar().describeRegistration(registration);
    result.plan(
        plan(
            prepared,
            List.of(
                OnboardingPlan.Step.of(
                    registration == null ? Stage.RESOLVE : Stage.REGISTER, registrationSteps),
                OnboardingPlan.Step.of(
                    Stage.CHECK,
                    List.of(
                        settings.force()
                            ? "forced: deliver and restart whatever the VM holds"
                            : "leave the VM alone if its recorded bundle hash matches, its proxy"
                                + " is ready and its token is valid for more than "
                                + StageRunner.human(settings.tokenRefreshMargin()))),
                OnboardingPlan.Step.of(
                    Stage.ISSUE_TOKEN,
                    settings.tokenIssuer().describe(prepared.workload(), tokenRequest)),
                OnboardingPlan.Step.of(
                    Stage.DELIVER,
                    settings.transport().describeDelivery(prepared.bundle(), prepared.target())),
                OnboardingPlan.Step.of(Stage.LAUNCH, launchSteps(prepared)),
                recordStep())));
    if (dryRun) {
      return Outcome.PLANNED;
    }

    if (registration != null) {
      Workload registered =
          stages.run(Stage.REGISTER, ctx -> settings.registrar().register(registration));
      if (!registered.equals(workload)) {
        prepared = prepare(stages, registered);
      }
    }
    Prepared ready = prepared;
    stages.host(ready.target().host());
    if (upToDate(stages, ready)) {
      String why = "unchanged: same bundle, proxy ready, token still fresh";
      stages.skipped(Stage.ISSUE_TOKEN, why);
      stages.skipped(Stage.DELIVER, why);
      stages.skipped(Stage.LAUNCH, why);
      stages.skipped(Stage.RECORD, why);
      return Outcome.UNCHANGED;
    }
    BootstrapToken token = issueToken(stages, ready, tokenRequest);
    BootstrapRecord record =
        BootstrapRecord.of(
            ready.bundle().contentHash(), settings.clock().instant(), token.expiresAt());
    Bundle bundle = ready.bundle().withToken(token).withRecord(record);
    stages.run(
        Stage.DELIVER,
        ctx -> {
          settings.transport().deliver(bundle, ready.target(), ctx);
          return null;
        });
    ProxyStatus status;
    try {
      status =
          stages.run(Stage.LAUNCH, ctx -> settings.launcher().launch(bundle, ready.target(), ctx));
    } catch (RunStopped launchStopped) {
      throw rollBack(stages, bundle, ready.target(), launchStopped);
    }
    result.proxyStatus(status);
    // One clean-up for both (one watched attempt, one warning); the proxy's copy is dropped even
    // when the bundle's could not be.
    stages.bestEffort(
        Stage.LAUNCH,
        "drop the previous bundle and proxy kept for a rollback",
        ctx -> {
          RuntimeException failure = null;
          try {
            settings.transport().discardPrevious(ready.target(), ctx);
          } catch (RuntimeException e) {
            failure = e;
          }
          try {
            settings.launcher().discardPrevious(bundle, ready.target(), ctx);
          } catch (RuntimeException e) {
            if (failure == null) {
              failure = e;
            } else {
              failure.addSuppressed(e);
            }
          }
          if (failure != null) {
            throw failure;
          }
        });
    record(stages, record);
    return Outcome.SUCCEEDED;
  }

  /**
   * What LAUNCH does, with what follows it: dropping or restoring the previous bundle and proxy.
   */
  private List<String> launchSteps(Prepared prepared) {
    List<String> steps =
        new ArrayList<>(settings.launcher().describeLaunch(prepared.bundle(), prepared.target()));
    steps.add(
        "once ready: drop the previous bundle and proxy kept for a rollback; if it fails: "
            + Stage.ROLLBACK.description()
            + " (where the transport and launcher keep them)");
    return steps;
  }

  /**
   * The ROLLBACK stage, after {@code bundle} was delivered and its LAUNCH failed: puts the previous
   * bundle back and, when there was one, the previous proxy; when the transport kept no previous
   * bundle, drops whatever proxy the launcher kept (it has no bundle to run with). Returns the
   * launch's stop, its failure extended with what the rollback did: the run fails at LAUNCH
   * whatever the rollback's outcome, and a failed rollback is reported next to the launch's
   * failure, never instead of it. A cancelled run is not rolled back.
   */
  private RunStopped rollBack(
      StageRunner stages, Bundle bundle, Target target, RunStopped launchStopped) {
    if (launchStopped.cancelled()) {
      String why = "the run was cancelled";
      stages.skipped(Stage.ROLLBACK, why);
      return launchStopped.reporting(
          withRollback(launchStopped.failure(), "not rolled back: " + why, null));
    }
    // A retried attempt does not ask the transport again once it has answered.
    AtomicReference<Boolean> bundleRestored = new AtomicReference<>();
    try {
      String done =
          stages.run(
              Stage.ROLLBACK,
              ctx -> {
                if (bundleRestored.get() == null) {
                  bundleRestored.set(settings.transport().restorePrevious(target, ctx));
                }
                if (!bundleRestored.get()) {
                  settings.launcher().discardPrevious(bundle, target, ctx);
                  return "not rolled back: nothing to restore (no previous bundle was kept: a"
                      + " first delivery, or a transport that keeps none)";
                }
                return settings.launcher().restorePrevious(bundle, target, ctx)
                    ? "rolled back: the previous bundle and proxy are back"
                    : "rolled back: the previous bundle is back; no previous proxy was running";
              });
      stages.annotate(Stage.ROLLBACK, done);
      return launchStopped.reporting(withRollback(launchStopped.failure(), done, null));
    } catch (RunStopped rollbackStopped) {
      OnboardingException rollbackFailure = rollbackStopped.failure();
      return launchStopped.reporting(
          withRollback(
              launchStopped.failure(),
              "the rollback failed too: " + rollbackFailure.problem(),
              rollbackFailure));
    }
  }

  /** {@code failure} with {@code rollback} (what the rollback did) added to its problem. */
  private static OnboardingException withRollback(
      OnboardingException failure, String rollback, OnboardingException rollbackFailure) {
    OnboardingException extended =
        new OnboardingException(
            failure.workload().orElse(null),
            failure.stage().orElse(null),
            failure.host().orElse(null),
            failure.problem() + "; " + rollback,
            failure.hint().orElse(null),
            failure.isTransient(),
            failure.getCause());
    if (rollbackFailure != null) {
      extended.addSuppressed(rollbackFailure);
    }
    return extended;
  }

  /**
   * Issues a new token and replaces only the token on the VM when the recorded one expires within
   * the refresh margin; the proxy keeps running.
   */
  OnboardingResult refreshToken() {
    return execute(
        Operation.REFRESH_TOKEN,
        stages -> {
          Workload workload = stages.run(Stage.RESOLVE, ctx -> resolve());
          Prepared prepared = prepare(stages, workload);
          TokenRequest tokenRequest = settings.tokenRequest();
          result.plan(
              plan(
                  prepared,
                  List.of(
                      OnboardingPlan.Step.of(
                          Stage.CHECK,
                          List.of(
                              "refresh only if the recorded token expires within "
                                  + StageRunner.human(settings.tokenRefreshMargin()))),
                      OnboardingPlan.Step.of(
                          Stage.ISSUE_TOKEN,
                          settings.tokenIssuer().describe(prepared.workload(), tokenRequest)),
                      OnboardingPlan.Step.of(
                          Stage.DELIVER_TOKEN,
                          List.of(
                              "replace "
                                  + prepared.bundle().tokenPath()
                                  + " (0600, redacted) and "
                                  + BootstrapRecord.FILE
                                  + " in "
                                  + prepared.target()
                                  + "; the proxy keeps running")),
                      recordStep())));
          if (dryRun) {
            return Outcome.PLANNED;
          }
          stages.host(prepared.target().host());
          Optional<BootstrapRecord> recorded =
              BootstrapRecord.fromAnnotations(prepared.workload().annotations());
          String notDue =
              recorded.isEmpty()
                  ? "never bootstrapped by this SDK: onboard it first"
                  : freshFor(recorded.get())
                      ? "token valid until " + recorded.get().tokenExpiresAt()
                      : null;
          if (notDue != null) {
            stages.skipped(Stage.CHECK, notDue);
            result.tokenExpiresAt(recorded.map(BootstrapRecord::tokenExpiresAt));
            return Outcome.UNCHANGED;
          }
          BootstrapToken token = issueToken(stages, prepared, tokenRequest);
          BootstrapRecord record =
              BootstrapRecord.of(
                  recorded.get().bundleHash(), settings.clock().instant(), token.expiresAt());
          Bundle bundle = prepared.bundle().withToken(token).withRecord(record);
          stages.run(
              Stage.DELIVER_TOKEN,
              ctx -> {
                settings.transport().deliverToken(bundle, prepared.target(), ctx);
                settings.launcher().reloadToken(bundle, prepared.target(), ctx);
                return null;
              });
          record(stages, record);
          return Outcome.SUCCEEDED;
        });
  }

  /** The CHECK stage: true when the VM already has this bundle, a ready proxy, a fresh token. */
  private boolean upToDate(StageRunner stages, Prepared prepared) {
    if (settings.force()) {
      stages.skipped(Stage.CHECK, "forced");
      return false;
    }
    Optional<BootstrapRecord> recorded =
        BootstrapRecord.fromAnnotations(prepared.workload().annotations());
    String changed =
        recorded.isEmpty()
            ? "no record of an earlier bootstrap"
            : !recorded.get().bundleHash().equals(prepared.bundle().contentHash())
                ? "the bundle changed"
                : !freshFor(recorded.get())
                    ? "the token expires at " + recorded.get().tokenExpiresAt()
                    : null;
    if (changed != null) {
      stages.skipped(Stage.CHECK, changed);
      return false;
    }
    ProxyStatus status =
        stages.run(
            Stage.CHECK,
            ctx -> settings.launcher().status(prepared.bundle(), prepared.target(), ctx));
    if (!status.isReady()) {
      return false;
    }
    result.proxyStatus(status);
    result.tokenExpiresAt(recorded.get().tokenExpiresAt());
    return true;
  }

  private boolean freshFor(BootstrapRecord record) {
    return record
        .tokenExpiresAt()
        .isAfter(settings.clock().instant().plus(settings.tokenRefreshMargin()));
  }

  private BootstrapToken issueToken(
      StageRunner stages, Prepared prepared, TokenRequest tokenRequest) {
    BootstrapToken token =
        stages.run(
            Stage.ISSUE_TOKEN,
            ctx -> {
              BootstrapToken issued =
                  settings.tokenIssuer().issue(prepared.workload(), tokenRequest);
              redactor.add(issued.secret());
              return issued;
            });
    result.tokenExpiresAt(token.expiresAt());
    return token;
  }

  private void record(StageRunner stages, BootstrapRecord record) {
    stages.run(
        Stage.RECORD,
        ctx -> {
          settings.registrar().recordBootstrap(ref, record);
          return null;
        });
  }

  private OnboardingPlan.Step recordStep() {
    return OnboardingPlan.Step.of(
        Stage.RECORD,
        List.of(
            "annotate "
                + ref
                + " with "
                + BootstrapRecord.BUNDLE_HASH
                + ", "
                + BootstrapRecord.BOOTSTRAPPED_AT
                + ", "
                + BootstrapRecord.TOKEN_EXPIRES_AT));
  }

  /** Validates the workload, resolves its target and builds its bundle: pure, no side effect. */
  private Prepared prepare(StageRunner stages, Workload workload) {
    Prepared prepared =
        stages.run(
            Stage.PREPARE,
            ctx -> {
              workload.validate();
              Target target =
                  Target.resolve(
                      workload, settings.targetDefaults(), settings.transport().needsHost());
              MeshSnapshot snapshot = mesh.get();
              Bundle bundle = settings.bundleFactory().build(workload, snapshot);
              InvalidInputException.throwIfAny(
                  workload.ref(), "launch", settings.launcher().check(bundle, target));
              return new Prepared(workload, target, bundle);
            });
    result.target(prepared.target());
    result.bundleHash(prepared.bundle().contentHash());
    return prepared;
  }

  private OnboardingPlan plan(Prepared prepared, List<OnboardingPlan.Step> steps) {
    return OnboardingPlan.builder()
        .workload(ref)
        .target(prepared.target())
        .files(prepared.bundle().manifest())
        .bundleHash(prepared.bundle().contentHash())
        .steps(steps)
        .build();
  }

  /**
   * Runs {@code operation} on this thread, as this run, unless the run was settled before it
   * started; its result (or the failure it threw) completes {@link #finished()}.
   */
  void runHere(Function<WorkloadRun, OnboardingResult> operation) {
    if (!start.compareAndSet(Start.NOT_YET, Start.RUNNING)) {
      return;
    }
    startNanos = System.nanoTime();
    runner = Thread.currentThread();
    try {
      operation.apply(this);
    } catch (RuntimeException | Error e) {
      finished.completeExceptionally(e);
    } finally {
      runner = null;
    }
  }

  /**
   * Ends this run with {@code unstarted} if it has not started (a fleet cancelled before its turn
   * came); a run that has started is left to end on its own.
   */
  void settleUnstarted(OnboardingResult unstarted) {
    if (start.compareAndSet(Start.NOT_YET, Start.NEVER)) {
      finished.complete(unstarted);
    }
  }

  /** Whether the run started on a thread (rather than being settled before its turn). */
  boolean started() {
    return start.get() == Start.RUNNING;
  }

  /**
   * Whether the run's thread, now free again, was held by a stage that ignored its interrupt (and
   * the run was reported without it). Read on the run's thread.
   */
  boolean wasAbandoned() {
    return abandonedHere;
  }

  /** Completes with the run's result, or with the unexpected failure its operation threw. */
  CompletableFuture<OnboardingResult> finished() {
    return finished;
  }

  /**
   * Waits for the run's result. When the waiting thread is interrupted, cancels the run, waits for
   * its (cancelled) result all the same, which a stage that ignores interrupts delays by {@link
   * StageWatchdog#GRACE} at most, and leaves the interrupt set.
   */
  OnboardingResult awaitResult() {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return finished.get();
        } catch (InterruptedException e) {
          interrupted = true;
          cancel();
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException runtime) {
            throw runtime;
          }
          throw (Error) cause;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Cancels the run: the attempt in progress is interrupted, no further stage starts. */
  void cancel() {
    cancelled = true;
    stages.cancelCurrentAttempt();
    Thread thread = runner;
    if (thread != null) {
      thread.interrupt();
    }
  }

  /** Runs {@code hook} (on another thread) if the run is abandoned: its thread is then held. */
  WorkloadRun whenAbandoned(Runnable hook) {
    this.whenAbandoned = hook;
    return this;
  }

  private OnboardingResult execute(Operation operation, Body body) {
    result.workload(ref).operation(dryRun ? Operation.PLAN : operation);
    Outcome outcome;
    try {
      try {
        outcome = body.run(stages);
      } catch (RunStopped stopped) {
        outcome = stopped.cancelled() ? Outcome.CANCELLED : Outcome.FAILED;
        result.failure(stopped.failure());
      }
    } catch (StageWatchdog.Abandoned e) {
      abandonedHere = true;
      return null; // reported by abandoned(), from another thread
    } finally {
      resources.close();
    }
    return finish(result.outcome(outcome));
  }

  /**
   * Ends a run whose stage ignored its interrupt, on a thread of the watchdog's while the run's own
   * thread is still held by that stage (which touches neither the result nor the stage results
   * again). Then closes the run's shared resources, which may free the held call.
   */
  private void abandoned(RunStopped stopped) {
    result.failure(stopped.failure());
    finish(result.outcome(stopped.cancelled() ? Outcome.CANCELLED : Outcome.FAILED));
    whenAbandoned.run();
    resources.close(); // last: closing may wait for the held call
  }

  private OnboardingResult finish(OnboardingResult.Builder ending) {
    OnboardingResult ended =
        ending.stages(stages.results()).duration(StageRunner.since(startNanos)).build();
    settings.listeners().emit(new OnboardingEvent.WorkloadFinished(ended, Instant.now()));
    finished.complete(ended);
    return ended;
  }

  /** The body of a run, given the stage runner. */
  @FunctionalInterface
  private interface Body {
    Outcome run(StageRunner stages);
  }

  /** A validated workload with its target and its bundle (without token). */
  private record Prepared(Workload workload, Target target, Bundle bundle) {}
}
