package dev.vmonboard.core;

import dev.vmonboard.core.OnboardingResult.Operation;
import dev.vmonboard.core.OnboardingResult.Outcome;
import dev.vmonboard.core.internal.SharedResources;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

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
  private final Redactor redactor = new Redactor();
  private final OnboardingResult.Builder result = OnboardingResult.builder();
  private final long start = System.nanoTime();

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
  }

  /** Onboards an already registered workload. */
  OnboardingResult onboard() {
    return execute(
        Operation.ONBOARD,
        stages -> {
          Workload workload = stages.run(Stage.RESOLVE, ctx -> settings.registrar().resolve(ref));
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
                      return Optional.of(settings.registrar().resolve(ref));
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
    OnboardingPlan plan =
        plan(
            prepared,
            List.of(
                OnboardingPlan.Step.of(
                    registration == null ? Stage.RESOLVE : Stage.REGISTER, registrationSteps),
                OnboardingPlan.Step.of(
                    Stage.ISSUE_TOKEN,
                    settings.tokenIssuer().describe(prepared.workload(), tokenRequest)),
                OnboardingPlan.Step.of(
                    Stage.DELIVER,
                    settings.transport().describeDelivery(prepared.bundle(), prepared.target())),
                OnboardingPlan.Step.of(
                    Stage.LAUNCH,
                    settings.launcher().describeLaunch(prepared.bundle(), prepared.target()))));
    result.plan(plan);
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
    BootstrapToken token =
        stages.run(
            Stage.ISSUE_TOKEN,
            ctx -> {
              BootstrapToken issued = settings.tokenIssuer().issue(ready.workload(), tokenRequest);
              redactor.add(issued.secret());
              return issued;
            });
    result.tokenExpiresAt(token.expiresAt());
    Bundle bundle = ready.bundle().withToken(token);
    stages.host(ready.target().host());
    stages.run(
        Stage.DELIVER,
        ctx -> {
          settings.transport().deliver(bundle, ready.target(), ctx);
          return null;
        });
    ProxyStatus status =
        stages.run(Stage.LAUNCH, ctx -> settings.launcher().launch(bundle, ready.target(), ctx));
    result.proxyStatus(status);
    return Outcome.SUCCEEDED;
  }

  /** Validates the workload, resolves its target and builds its bundle: pure, no side effect. */
  private Prepared prepare(StageRunner stages, Workload workload) {
    Prepared prepared =
        stages.run(
            Stage.PREPARE,
            ctx -> {
              workload.validate();
              Target target = Target.resolve(workload, settings.targetDefaults());
              MeshSnapshot snapshot = mesh.get();
              Bundle bundle = settings.bundleFactory().build(workload, snapshot);
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

  private OnboardingResult execute(Operation operation, Body body) {
    result.workload(ref).operation(dryRun ? Operation.PLAN : operation);
    Outcome outcome;
    try (SharedResources resources = new SharedResources()) {
      StageRunner stages = new StageRunner(settings, ref, runDeadline, resources, redactor);
      try {
        outcome = body.run(stages);
      } catch (RunStopped stopped) {
        outcome = stopped.cancelled() ? Outcome.CANCELLED : Outcome.FAILED;
        result.failure(stopped.failure());
      } finally {
        result.stages(stages.results());
      }
    }
    OnboardingResult finished = result.outcome(outcome).duration(StageRunner.since(start)).build();
    settings.listeners().emit(new OnboardingEvent.WorkloadFinished(finished, Instant.now()));
    return finished;
  }

  /** The body of a run, given the stage runner. */
  @FunctionalInterface
  private interface Body {
    Outcome run(StageRunner stages);
  }

  /** A validated workload with its target and its bundle (without token). */
  private record Prepared(Workload workload, Target target, Bundle bundle) {}
}
