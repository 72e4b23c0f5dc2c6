package dev.vmonboard.core;

import dev.vmonboard.core.mesh.MeshConfigSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The front door of the SDK: onboards VMs into an Istio mesh through four replaceable stages,
 * {@link Registrar} &rarr; {@link TokenIssuer} &rarr; {@link Transport} &rarr; {@link
 * ProxyLauncher}, for one VM or a fleet.
 *
 * <pre>{@code
 * OnboardingPipeline pipeline = OnboardingPipeline.builder()
 *     .registrar(registrar).tokenIssuer(issuer)
 *     .meshSource(discovery).bundleFactory(ContainerBundleFactory.create())
 *     .transport(transport).launcher(launcher)
 *     .concurrency(16)
 *     .build();
 * OnboardingResult result = pipeline.onboard(WorkloadRef.parse("backend-vm.ns", "default"));
 * }</pre>
 *
 * <p>Every run plans first (what it will register, write and run), then executes that plan; {@link
 * #dryRun()} returns the plan without executing anything. Runs return results instead of throwing:
 * a fleet run never stops at the first failure. A pipeline is immutable and thread-safe.
 *
 * <p>A VM's run goes on one thread from its first stage to its last: for {@code onboard} and the
 * other single-VM calls, a run thread while the caller waits (interrupting the caller cancels the
 * run); for a fleet, one of {@link Builder#concurrency(int)} worker threads. A run calls its stages
 * one after the other; stages must be thread-safe across the VMs of a fleet.
 */
public final class OnboardingPipeline {

  private static final Executor RUN_THREADS =
      Executors.newCachedThreadPool(StageRunner.daemonThreads("vmonboard-run-"));

  private final PipelineSettings settings;
  private final boolean dryRun;

  private OnboardingPipeline(PipelineSettings settings, boolean dryRun) {
    this.settings = settings;
    this.dryRun = dryRun;
  }

  /**
   * A builder; registrar, token issuer, mesh source, bundle factory, transport and launcher are
   * required.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The same pipeline in dry-run mode: every operation returns its {@link OnboardingPlan} (secrets
   * redacted) with outcome {@link OnboardingResult.Outcome#PLANNED} and changes nothing anywhere.
   * Reading the workload and the mesh configuration still happens.
   */
  public OnboardingPipeline dryRun() {
    return new OnboardingPipeline(settings, true);
  }

  /** Whether this pipeline only plans. */
  public boolean isDryRun() {
    return dryRun;
  }

  /** Onboards the registered workload {@code ref}: resolve, token, delivery, proxy start. */
  public OnboardingResult onboard(WorkloadRef ref) {
    return single(ref, WorkloadRun::onboard);
  }

  /**
   * Registers what {@code registration} asks for (create or update), then onboards the workload.
   * Every value is checked before anything is registered.
   */
  public OnboardingResult onboard(Registration registration) {
    return single(registration.workload().ref(), run -> run.onboard(registration));
  }

  /**
   * Offboards {@code ref}: stops and removes the proxy, deletes the bundle, deregisters, in that
   * order. Parts already gone are fine; a workload no longer registered ends {@code UNCHANGED}.
   */
  public OnboardingResult offboard(WorkloadRef ref) {
    return single(ref, WorkloadRun::offboard);
  }

  /**
   * Refreshes the token of {@code ref} when the recorded one expires within the refresh margin: a
   * new token replaces only the token file on the VM, atomically, and the proxy keeps running. A VM
   * whose token is still fresh ends {@code UNCHANGED}.
   */
  public OnboardingResult refreshToken(WorkloadRef ref) {
    return single(ref, WorkloadRun::refreshToken);
  }

  /** {@link #refreshToken} for every workload in {@code refs}, bounded and past failures. */
  public FleetResult refreshTokens(Collection<WorkloadRef> refs) {
    return fleet(refs, OnboardingResult.Operation.REFRESH_TOKEN, WorkloadRun::refreshToken);
  }

  /** {@link #refreshToken} for every workload {@code selector} covers. */
  public FleetResult refreshTokens(WorkloadSelector selector) {
    return fleet(selector, OnboardingResult.Operation.REFRESH_TOKEN, WorkloadRun::refreshToken);
  }

  /** Offboards {@code workload} as given, for a VM whose registration may already be gone. */
  public OnboardingResult offboard(Workload workload) {
    return single(workload.ref(), run -> run.offboard(workload));
  }

  /**
   * Onboards every workload in {@code refs}, at most {@link Builder#concurrency(int)} at a time,
   * past any failure. One result per workload, in the order given.
   *
   * @throws InvalidInputException when a workload is listed twice
   */
  public FleetResult onboardAll(Collection<WorkloadRef> refs) {
    return fleet(refs, OnboardingResult.Operation.ONBOARD, run -> run.onboard());
  }

  /**
   * Onboards every workload {@code selector} covers (the {@code --all} of the command line), as the
   * registrar lists them when the run starts: one list call, no resolve per workload.
   */
  public FleetResult onboardAll(WorkloadSelector selector) {
    return fleet(selector, OnboardingResult.Operation.ONBOARD, run -> run.onboard());
  }

  /**
   * Offboards every workload in {@code refs}, bounded and past failures like {@link #onboardAll}.
   */
  public FleetResult offboardAll(Collection<WorkloadRef> refs) {
    return fleet(refs, OnboardingResult.Operation.OFFBOARD, run -> run.offboard());
  }

  /** Offboards every workload {@code selector} covers, as listed when the run starts. */
  public FleetResult offboardAll(WorkloadSelector selector) {
    return fleet(selector, OnboardingResult.Operation.OFFBOARD, run -> run.offboard());
  }

  private FleetResult fleet(
      WorkloadSelector selector,
      OnboardingResult.Operation kind,
      Function<WorkloadRun, OnboardingResult> operation) {
    Map<WorkloadRef, Workload> listed = new LinkedHashMap<>();
    for (Workload workload : settings.registrar().list(selector)) {
      listed.put(workload.ref(), workload);
    }
    return fleet(listed.keySet(), kind, run -> operation.apply(run.listed(listed.get(run.ref()))));
  }

  private FleetResult fleet(
      Collection<WorkloadRef> refs,
      OnboardingResult.Operation kind,
      Function<WorkloadRun, OnboardingResult> operation) {
    Set<WorkloadRef> seen = new HashSet<>();
    List<Problem> problems = new ArrayList<>();
    for (WorkloadRef ref : refs) {
      if (!seen.add(ref)) {
        problems.add(Problem.of("workloads", ref + " is listed twice"));
      }
    }
    InvalidInputException.throwIfAny(null, "fleet", problems);
    MeshMemo mesh = newMeshMemo();
    Optional<Instant> deadline = runDeadline();
    return new FleetRun(
            settings, List.copyOf(refs), dryRun ? OnboardingResult.Operation.PLAN : kind)
        .run(ref -> new WorkloadRun(settings, mesh, dryRun, deadline, ref), operation);
  }

  /**
   * Runs {@code operation} for {@code ref} on a run thread while the caller waits: a stage that
   * ignores its interrupt holds that thread, never the caller's.
   */
  private OnboardingResult single(
      WorkloadRef ref, Function<WorkloadRun, OnboardingResult> operation) {
    WorkloadRun run = new WorkloadRun(settings, newMeshMemo(), dryRun, runDeadline(), ref);
    RUN_THREADS.execute(() -> run.runHere(operation));
    return run.awaitResult();
  }

  private MeshMemo newMeshMemo() {
    return new MeshMemo(settings.meshSource(), settings.retryPolicy());
  }

  private Optional<Instant> runDeadline() {
    return settings.runTimeout().map(timeout -> Instant.now().plus(timeout));
  }

  /**
   * Assembles a pipeline. Required: the four stages, a mesh source and a bundle factory. Every
   * problem is reported at once by {@link #build()}.
   */
  public static final class Builder {
    private Registrar registrar;
    private TokenIssuer tokenIssuer;
    private MeshConfigSource meshSource;
    private BundleFactory bundleFactory;
    private Transport transport;
    private ProxyLauncher launcher;
    private TargetDefaults targetDefaults = TargetDefaults.standard();
    private String audience = TokenRequest.ISTIO_CA_AUDIENCE;
    private Duration tokenLifetime = Duration.ofHours(24);
    private Duration tokenRefreshMargin;
    private boolean force;
    private int concurrency = 8;
    private Duration defaultStageTimeout = Duration.ofMinutes(2);
    private final Map<Stage, Duration> stageTimeouts = new EnumMap<>(Stage.class);
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private Duration runTimeout;
    private final List<OnboardingListener> listeners = new ArrayList<>();
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Stage 1: registers or resolves workloads. */
    public Builder registrar(Registrar registrar) {
      this.registrar = registrar;
      return this;
    }

    /** Stage 2: issues bootstrap tokens. */
    public Builder tokenIssuer(TokenIssuer tokenIssuer) {
      this.tokenIssuer = tokenIssuer;
      return this;
    }

    /** Where the mesh configuration comes from (read once per run). */
    public Builder meshSource(MeshConfigSource meshSource) {
      this.meshSource = meshSource;
      return this;
    }

    /** How bundles are built (the container style or the systemd style). */
    public Builder bundleFactory(BundleFactory bundleFactory) {
      this.bundleFactory = bundleFactory;
      return this;
    }

    /** Stage 3: delivers bundles. */
    public Builder transport(Transport transport) {
      this.transport = transport;
      return this;
    }

    /** Stage 4: starts proxies; {@link ProxyLauncher#none()} to only deliver. */
    public Builder launcher(ProxyLauncher launcher) {
      this.launcher = launcher;
      return this;
    }

    /** Defaults for reaching VMs where annotations say nothing. */
    public Builder targetDefaults(TargetDefaults targetDefaults) {
      this.targetDefaults = targetDefaults;
      return this;
    }

    /** The token audience; {@code istio-ca} by default. */
    public Builder tokenAudience(String audience) {
      this.audience = audience;
      return this;
    }

    /** The token lifetime asked for; 24 hours by default. */
    public Builder tokenLifetime(Duration lifetime) {
      this.tokenLifetime = lifetime;
      return this;
    }

    /**
     * How close to expiry a token may get before a run replaces it; a quarter of the token lifetime
     * by default.
     */
    public Builder tokenRefreshMargin(Duration margin) {
      this.tokenRefreshMargin = margin;
      return this;
    }

    /**
     * Whether to deliver and restart even when the VM is up to date (same bundle, ready proxy,
     * fresh token); false by default, so that re-runs leave such VMs alone.
     */
    public Builder force(boolean force) {
      this.force = force;
      return this;
    }

    /** How many workloads a fleet run handles at once; 8 by default, at least 1. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /**
     * The timeout of every stage without its own; 2 minutes by default. At its timeout an attempt
     * is interrupted; one that ignores the interrupt for 500 ms more (a call blocked in I/O) is
     * abandoned: the run ends {@code TIMED_OUT} without it, its shared resources are closed, and
     * whatever the call does when it returns is ignored.
     */
    public Builder stageTimeout(Duration timeout) {
      this.defaultStageTimeout = timeout;
      return this;
    }

    /** The timeout of one stage. */
    public Builder stageTimeout(Stage stage, Duration timeout) {
      this.stageTimeouts.put(stage, timeout);
      return this;
    }

    /** How transient stage failures are retried; {@link RetryPolicy#defaults()} by default. */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = retryPolicy;
      return this;
    }

    /** A deadline for each call (one workload or a whole fleet); unlimited by default. */
    public Builder runTimeout(Duration timeout) {
      this.runTimeout = timeout;
      return this;
    }

    /** Adds a listener for events. */
    public Builder listener(OnboardingListener listener) {
      this.listeners.add(listener);
      return this;
    }

    /** The clock (for token expiry decisions); the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * The pipeline.
     *
     * @throws InvalidInputException listing every missing stage and bad option
     */
    public OnboardingPipeline build() {
      List<Problem> problems = new ArrayList<>();
      require(registrar, "registrar", "a Registrar (e.g. KubernetesRegistrar)", problems);
      require(
          tokenIssuer, "tokenIssuer", "a TokenIssuer (e.g. ServiceAccountTokenIssuer)", problems);
      require(
          meshSource, "meshSource", "a MeshConfigSource (e.g. KubernetesMeshDiscovery)", problems);
      require(
          bundleFactory, "bundleFactory", "a BundleFactory (container or systemd style)", problems);
      require(transport, "transport", "a Transport (e.g. SshTransport)", problems);
      require(
          launcher,
          "launcher",
          "a ProxyLauncher, or ProxyLauncher.none() to only deliver",
          problems);
      require(targetDefaults, "targetDefaults", "target defaults", problems);
      require(retryPolicy, "retryPolicy", "a retry policy", problems);
      require(clock, "clock", "a clock", problems);
      if (concurrency < 1) {
        problems.add(Problem.of("concurrency", "must be at least 1, not " + concurrency));
      }
      positive("stageTimeout", defaultStageTimeout, problems);
      stageTimeouts.forEach(
          (stage, timeout) -> positive("stageTimeout(" + stage + ")", timeout, problems));
      if (runTimeout != null) {
        positive("runTimeout", runTimeout, problems);
      }
      TokenRequest tokenRequest = null;
      try {
        tokenRequest = TokenRequest.of(audience, tokenLifetime);
      } catch (IllegalArgumentException | NullPointerException e) {
        problems.add(Problem.of("tokenAudience/tokenLifetime", String.valueOf(e.getMessage())));
      }
      Duration margin =
          tokenRefreshMargin != null
              ? tokenRefreshMargin
              : tokenLifetime == null ? Duration.ZERO : tokenLifetime.dividedBy(4);
      if (margin.isNegative() || (tokenLifetime != null && margin.compareTo(tokenLifetime) >= 0)) {
        problems.add(
            Problem.of(
                "tokenRefreshMargin",
                "must be at least zero and shorter than the token lifetime, not " + margin));
      }
      InvalidInputException.throwIfAny(null, "pipeline", problems);
      PipelineSettings settings =
          new PipelineSettings(
              registrar,
              tokenIssuer,
              meshSource,
              bundleFactory,
              transport,
              launcher,
              targetDefaults,
              tokenRequest,
              margin,
              force,
              concurrency,
              defaultStageTimeout,
              Map.copyOf(stageTimeouts),
              retryPolicy,
              Optional.ofNullable(runTimeout),
              new Listeners(listeners),
              clock);
      return new OnboardingPipeline(settings, false);
    }

    private static void require(Object value, String field, String what, List<Problem> problems) {
      if (value == null) {
        problems.add(Problem.of(field, "is missing: set " + what));
      }
    }

    private static void positive(String field, Duration value, List<Problem> problems) {
      if (value == null || value.isZero() || value.isNegative()) {
        problems.add(Problem.of(field, "must be a positive duration, not " + value));
      }
    }
  }
}
