package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.k8s.KubernetesCluster;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the onboarding pipeline inside Kubernetes: watches the {@code WorkloadEntry} objects
 * annotated {@value #MANAGED_ANNOTATION}{@code : "true"} and keeps their VMs onboarded.
 *
 * <pre>{@code
 * OnboardingController controller = OnboardingController.builder()
 *     .cluster(KubernetesCluster.inCluster())
 *     .bundleFactory(ContainerBundleFactory.create())
 *     .credentialsSecret("vmonboard", "vm-ssh")
 *     .vmStages(credentials -> VmStages.of(sshTransport(credentials), launcher(credentials)))
 *     .namespaces("vms")
 *     .sharding(Sharding.leases("vmonboard", "vmonboard-controller"))
 *     .build();
 * controller.start();   // returns at once; close() stops it
 * }</pre>
 *
 * <p>For every opted-in entry it
 *
 * <ul>
 *   <li>adds the finalizer {@value #FINALIZER}, then onboards the VM; after a change to the entry
 *       (spec, labels, annotations) it onboards again, and the pipeline's CHECK stage leaves an
 *       up-to-date VM alone;
 *   <li>replaces the token, and only the token, before it expires, without restarting the proxy:
 *       each entry at its own point (from a hash of its name) between half the token's lifetime and
 *       the token refresh margin before expiry, on the controller's {@link Clock}, so that tokens
 *       issued together are not all replaced together;
 *   <li>on deletion, offboards the VM (proxy stopped, bundle removed, registrations released) and
 *       only then removes the finalizer, so that the entry disappears after its VM is clean;
 *   <li>records the outcome on the entry: {@value #LAST_RESULT}, {@value #LAST_RESULT_AT}, {@value
 *       #LAST_ERROR} (absent after a success), {@value #FAILURES}, beside the pipeline's own {@code
 *       vmonboard.dev/bundle-hash}, {@code bootstrapped-at} and {@code token-expires-at}. Never a
 *       token: failures are the pipeline's redacted messages;
 *   <li>tries a failed entry again after an exponential backoff, and every entry once per resync
 *       period (a stopped proxy is started again).
 * </ul>
 *
 * <p>Removing the opt-in annotation removes the finalizer and leaves the VM as it is. All the
 * controller's annotations carry the {@code vmonboard.dev/} prefix: Istio passes annotations
 * containing {@code istio.io/} to the proxy (they are part of the bundle), so an {@code
 * *.istio.io/managed} opt-in would change every bundle's hash.
 *
 * <p>At most {@link Builder#concurrency(int)} entries are reconciled at once per replica, never one
 * entry by two workers. With {@link Builder#sharding(Sharding)} several replicas run and all work:
 * the entries are split into shards, each owned through its own Lease, balanced as replicas come
 * and go, and each entry is worked by one replica at a time (see {@link Sharding}); without it, run
 * a single replica. SSH credentials come from the Kubernetes Secret named by {@link
 * Builder#credentialsSecret(String, String)}, watched, and handed to the caller's {@link
 * VmStagesFactory}: this module stays free of any SSH library.
 *
 * <p>The RBAC, ServiceAccount and Deployment it needs ship as class-path resources under {@code
 * dev/vmonboard/k8s/controller/} ({@value #MANIFESTS}).
 */
public final class OnboardingController implements AutoCloseable {

  /** The annotation that opts a WorkloadEntry in: {@code "true"}. */
  public static final String MANAGED_ANNOTATION = "vmonboard.dev/managed";

  /** The finalizer that holds a deleted entry until its VM is offboarded. */
  public static final String FINALIZER = "vmonboard.dev/offboard";

  /** Status: the last run's operation and outcome, e.g. {@code onboard succeeded}. */
  public static final String LAST_RESULT = "vmonboard.dev/last-result";

  /** Status: when the last result was recorded (ISO-8601). */
  public static final String LAST_RESULT_AT = "vmonboard.dev/last-result-at";

  /** Status: the last failure, redacted; absent after a success. */
  public static final String LAST_ERROR = "vmonboard.dev/last-error";

  /** Status: how many reconciles in a row failed; absent after a success. */
  public static final String FAILURES = "vmonboard.dev/consecutive-failures";

  /** The class-path folder of the deployment manifests. */
  public static final String MANIFESTS = "dev/vmonboard/k8s/controller/";

  private static final Logger LOG = LoggerFactory.getLogger(OnboardingController.class);

  private final ControllerSettings settings;
  private volatile Session session;
  private ShardLeases leases;
  private volatile boolean started;
  private volatile boolean closed;

  private OnboardingController(ControllerSettings settings) {
    this.settings = settings;
  }

  /** A builder; cluster, bundle factory and VM stages are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts watching and reconciling (with sharding: the entries of the shards it takes), and
   * returns at once. An unreachable API server is retried with backoff, not thrown.
   *
   * @throws IllegalStateException when already started or closed
   */
  public synchronized void start() {
    if (closed || started) {
      throw new IllegalStateException(
          "the controller was already " + (closed ? "closed" : "started") + "; build a new one");
    }
    started = true;
    LOG.info(
        "controller {} starting: namespaces {}, concurrency {}, {}",
        settings.identity(),
        settings.namespaces().isEmpty() ? "all" : settings.namespaces(),
        settings.concurrency(),
        settings.sharding().map(Object::toString).orElse("no sharding: one replica"));
    session = new Session(settings);
    session.start();
    if (settings.sharding().isPresent()) {
      leases =
          new ShardLeases(
              settings.cluster().client(), settings.sharding().get(), session, System::nanoTime);
      leases.start();
    }
  }

  /**
   * Whether this replica is working now: without sharding, once started until closed; with
   * sharding, while it holds at least one shard.
   */
  public synchronized boolean isActive() {
    return session != null && session.isActive();
  }

  /** The shards this replica works now (empty without sharding), for tests and benchmarks. */
  synchronized List<Integer> workingShards() {
    return leases == null ? List.of() : leases.workingShards();
  }

  /**
   * Whether this replica is active and watches WorkloadEntries in every namespace it manages (its
   * first list done, its watch open): entries created from now on reach it. Useful to a test or a
   * demo that creates entries right after {@link #start()}.
   */
  public synchronized boolean isWatching() {
    return session != null && !closed && session.isWatching();
  }

  /**
   * Liveness: started, not closed, and no informer of its session has stopped for good. Read
   * without the controller's lock, so a probe never waits for a start or a close.
   */
  public boolean isAlive() {
    Session current = session;
    return started && !closed && (current == null || current.informersRunning());
  }

  /**
   * Readiness: alive, and its informers have done their first list (a replica that holds no shard
   * yet is ready to take some).
   */
  public boolean isReady() {
    Session current = session;
    return isAlive() && (current == null || current.hasSynced());
  }

  /** Whether nothing is queued or being reconciled right now (inactive replicas are idle). */
  public synchronized boolean isIdle() {
    return session == null || session.isIdle();
  }

  /**
   * The resource version of {@code entry} in this replica's informer cache (null if not cached),
   * for tests that must know the watch has delivered every change made so far.
   */
  synchronized String cachedVersion(WorkloadRef entry) {
    return session == null ? null : session.cachedVersion(Entries.key(entry));
  }

  /** This replica's identity (the Leases' holder name with sharding). */
  public String identity() {
    return settings.identity();
  }

  /**
   * Stops: stops the informers and interrupts reconciles in flight (the shard Leases are renewed
   * meanwhile), then releases the shards' Leases so that the other replicas take them over at once.
   * Idempotent.
   */
  @Override
  public void close() {
    Session stopping;
    ShardLeases leaving;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      stopping = session;
      leaving = leases;
    }
    if (leaving != null) {
      leaving.beginClosing();
    }
    boolean stopped = stopping == null || stopping.close();
    if (leaving != null) {
      leaving.close(stopped);
    }
    LOG.info("controller {} stopped", settings.identity());
  }

  @Override
  public String toString() {
    return "OnboardingController[" + settings.identity() + (isActive() ? ", active]" : "]");
  }

  /** Configures an {@link OnboardingController}; {@link #build()} reports every problem at once. */
  public static final class Builder {
    private KubernetesCluster cluster;
    private BundleFactory bundleFactory;
    private VmStagesFactory vmStages;
    private ControllerSettings.SecretName secret;
    private final LinkedHashSet<String> namespaces = new LinkedHashSet<>();
    private int concurrency = 4;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofMinutes(5);
    private Duration tokenLifetime = Duration.ofHours(24);
    private Duration tokenRefreshMargin;
    private Duration refreshCheckInterval = Duration.ofSeconds(30);
    private Duration resyncPeriod = Duration.ofMinutes(10);
    private Sharding sharding;
    private Clock clock = Clock.systemUTC();
    private Consumer<OnboardingPipeline.Builder> pipelineOptions = builder -> {};
    private final List<ControllerListener> listeners = new ArrayList<>();

    private Builder() {}

    /** The cluster whose WorkloadEntries the controller manages (required). */
    public Builder cluster(KubernetesCluster cluster) {
      this.cluster = cluster;
      return this;
    }

    /** How bundles are built: the container or the systemd style (required). */
    public Builder bundleFactory(BundleFactory bundleFactory) {
      this.bundleFactory = bundleFactory;
      return this;
    }

    /** Builds the transport and launcher from the credentials (required). */
    public Builder vmStages(VmStagesFactory factory) {
      this.vmStages = factory;
      return this;
    }

    /**
     * The Secret {@code namespace/name} that holds the credentials for the VMs; watched, so a
     * rotated key is used from the next run on. Without it the factory gets {@link
     * VmCredentials#none()}.
     */
    public Builder credentialsSecret(String namespace, String name) {
      this.secret = new ControllerSettings.SecretName(namespace, name);
      return this;
    }

    /** Limits the controller to these namespaces (adds to earlier calls); all by default. */
    public Builder namespaces(String... names) {
      namespaces.addAll(List.of(names));
      return this;
    }

    /** How many entries are reconciled at once; 4 by default. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /**
     * The backoff before a failed entry is tried again: {@code initial}, doubling per failure in a
     * row up to {@code max}, with jitter; 1 s to 5 min by default.
     */
    public Builder requeueBackoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** The lifetime of the tokens the controller asks for; 24 hours by default. */
    public Builder tokenLifetime(Duration lifetime) {
      this.tokenLifetime = lifetime;
      return this;
    }

    /** How long before expiry a token is replaced; a quarter of the lifetime by default. */
    public Builder tokenRefreshMargin(Duration margin) {
      this.tokenRefreshMargin = margin;
      return this;
    }

    /** How often recorded token expiries are compared with the clock; 30 s by default. */
    public Builder refreshCheckInterval(Duration interval) {
      this.refreshCheckInterval = interval;
      return this;
    }

    /** How often every entry is reconciled whether it changed or not; 10 min by default. */
    public Builder resyncPeriod(Duration period) {
      this.resyncPeriod = period;
      return this;
    }

    /**
     * Runs several replicas that share the work through shard Leases (see {@link Sharding}); none
     * by default (then run one replica).
     */
    public Builder sharding(Sharding sharding) {
      this.sharding = sharding;
      return this;
    }

    /** The clock of token expiry decisions and status times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Sets further pipeline options (retry policy, stage timeouts, target defaults, pipeline
     * listeners, ...). Applied first: the stages, clock, token lifetime and margin are the
     * controller's.
     */
    public Builder pipelineOptions(Consumer<OnboardingPipeline.Builder> options) {
      this.pipelineOptions = options;
      return this;
    }

    /** Adds a listener for the controller's events. */
    public Builder listener(ControllerListener listener) {
      this.listeners.add(listener);
      return this;
    }

    /**
     * The controller, not yet started.
     *
     * @throws InvalidInputException listing every missing or bad setting
     */
    public OnboardingController build() {
      List<Problem> problems = new ArrayList<>();
      if (cluster == null) {
        problems.add(Problem.of("cluster", "is missing: set the KubernetesCluster to watch"));
      }
      if (bundleFactory == null) {
        problems.add(
            Problem.of("bundleFactory", "is missing: set ContainerBundleFactory or systemd"));
      }
      if (vmStages == null) {
        problems.add(
            Problem.of("vmStages", "is missing: set the factory of transport and launcher"));
      }
      if (clock == null) {
        problems.add(Problem.of("clock", "is missing"));
      }
      if (pipelineOptions == null) {
        problems.add(Problem.of("pipelineOptions", "is missing"));
      }
      if (secret != null && (blank(secret.namespace()) || blank(secret.name()))) {
        problems.add(Problem.of("credentialsSecret", "needs a namespace and a name"));
      }
      for (String namespace : namespaces) {
        if (blank(namespace)) {
          problems.add(Problem.of("namespaces", "holds an empty name"));
        }
      }
      if (concurrency < 1) {
        problems.add(Problem.of("concurrency", "must be at least 1, not " + concurrency));
      }
      positive("requeueBackoff", initialBackoff, problems);
      positive("requeueBackoff", maxBackoff, problems);
      if (initialBackoff != null
          && maxBackoff != null
          && maxBackoff.compareTo(initialBackoff) < 0) {
        problems.add(Problem.of("requeueBackoff", "max must not be below the initial backoff"));
      }
      positive("tokenLifetime", tokenLifetime, problems);
      positive("refreshCheckInterval", refreshCheckInterval, problems);
      positive("resyncPeriod", resyncPeriod, problems);
      Duration margin =
          tokenRefreshMargin != null
              ? tokenRefreshMargin
              : tokenLifetime == null ? null : tokenLifetime.dividedBy(4);
      if (margin != null
          && tokenLifetime != null
          && (margin.isNegative() || margin.compareTo(tokenLifetime) >= 0)) {
        problems.add(
            Problem.of(
                "tokenRefreshMargin",
                "must be at least zero and shorter than the token lifetime, not " + margin));
      }
      InvalidInputException.throwIfAny(null, "controller", problems);
      String identity = sharding != null ? sharding.identity() : Sharding.defaultIdentity();
      return new OnboardingController(
          new ControllerSettings(
              cluster,
              bundleFactory,
              vmStages,
              Optional.ofNullable(secret),
              List.copyOf(namespaces),
              concurrency,
              new RetryPolicy(1, initialBackoff, maxBackoff),
              tokenLifetime,
              margin,
              refreshCheckInterval,
              resyncPeriod,
              Optional.ofNullable(sharding),
              identity,
              clock,
              pipelineOptions,
              new Events(listeners)));
    }

    private static boolean blank(String text) {
      return text == null || text.isBlank();
    }

    private static void positive(String field, Duration value, List<Problem> problems) {
      if (value == null || value.isZero() || value.isNegative()) {
        problems.add(Problem.of(field, "must be a positive duration, not " + value));
      }
    }
  }
}
