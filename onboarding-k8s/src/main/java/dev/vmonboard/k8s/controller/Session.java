package dev.vmonboard.k8s.controller;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's work from start to close: informers on the WorkloadEntries of the namespaces in
 * scope feed a work queue that a bounded pool of workers drains through the {@link Reconciler};
 * failures come back after a backoff; a periodic tick queues entries whose token is due for refresh
 * (on the controller's clock, at a point of the refresh window that depends on the entry) and,
 * every resync period, every entry. Closing it stops all of that, interrupting runs in flight.
 *
 * <p>With sharding, only the entries of the shards this replica holds are worked: the informers
 * still cache every entry (so that a shard taken over starts at once), and {@link ShardLeases}
 * starts and stops shards through the {@link ShardLeases.Work} methods. Without sharding every
 * entry is worked.
 *
 * <p>The informers list and then watch; fabric8 re-establishes a watch that drops and lists again
 * when the API server says its resource version is too old, so a watch disconnect loses no entry.
 */
final class Session implements ShardLeases.Work {

  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(10);

  private final ControllerSettings settings;
  private final Pipelines pipelines;
  private final Reconciler reconciler;
  private final KubernetesSerialization json;
  private final WorkQueue queue = new WorkQueue();
  private final Map<String, SharedIndexInformer<GenericKubernetesResource>> informers =
      new ConcurrentHashMap<>();
  private final Set<String> backingOff = ConcurrentHashMap.newKeySet();
  private final Map<String, EntryHash> hashes = new ConcurrentHashMap<>();
  private final Set<Integer> shards = ConcurrentHashMap.newKeySet();
  private final boolean everything;
  private boolean active;
  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler;
  private final AtomicInteger informerAttempts = new AtomicInteger();
  private volatile boolean closed;
  private volatile long lastResync = System.nanoTime();

  Session(ControllerSettings settings) {
    this.settings = settings;
    this.everything = settings.sharding().isEmpty();
    this.pipelines = new Pipelines(settings);
    this.reconciler = new Reconciler(settings, pipelines, this::cached);
    this.json = settings.cluster().client().getKubernetesSerialization();
    this.workers =
        Executors.newFixedThreadPool(settings.concurrency(), threads("vmonboard-reconcile-"));
    this.scheduler = Executors.newSingleThreadScheduledExecutor(threads("vmonboard-schedule-"));
  }

  void start() {
    pipelines.start();
    if (everything) {
      activity();
    }
    scheduler.execute(this::startInformers);
    for (int i = 0; i < settings.concurrency(); i++) {
      workers.execute(this::work);
    }
    long tick = settings.refreshCheckInterval().toMillis();
    scheduler.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
  }

  /**
   * Whether an informer watches every namespace in scope (its first list done, its watch open) and
   * the credentials Secret is watched, so that what is created from now on is seen.
   */
  boolean isWatching() {
    int scope = settings.namespaces().isEmpty() ? 1 : settings.namespaces().size();
    return informers.size() == scope
        && informers.values().stream().allMatch(SharedIndexInformer::isWatching)
        && pipelines.isWatching();
  }

  /** Whether every namespace in scope has an informer and each has done its first list. */
  boolean hasSynced() {
    int scope = settings.namespaces().isEmpty() ? 1 : settings.namespaces().size();
    return informers.size() == scope
        && informers.values().stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /** Whether no informer has stopped for good (one not started yet is being retried). */
  boolean informersRunning() {
    return !closed && informers.values().stream().allMatch(SharedIndexInformer::isRunning);
  }

  /** Whether nothing is queued or being reconciled (for tests and benchmarks). */
  boolean isIdle() {
    return queue.isIdle();
  }

  private void startInformers() {
    if (closed) {
      return;
    }
    try {
      List<String> scope = settings.namespaces().isEmpty() ? List.of("") : settings.namespaces();
      for (String namespace : scope) {
        if (!informers.containsKey(namespace)) {
          informers.put(namespace, informer(namespace));
        }
      }
    } catch (RuntimeException e) {
      // Typically the API server cannot be reached yet, or does not serve WorkloadEntries.
      Duration delay = settings.requeueBackoff().backoffAfter(informerAttempts.incrementAndGet());
      LOG.warn("cannot watch WorkloadEntries yet ({}); trying again in {}", e.getMessage(), delay);
      if (!closed) {
        scheduler.schedule(this::startInformers, delay.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  private SharedIndexInformer<GenericKubernetesResource> informer(String namespace) {
    var entries = settings.cluster().workloadEntries();
    SharedIndexInformer<GenericKubernetesResource> informer =
        namespace.isEmpty()
            ? entries.inAnyNamespace().runnableInformer(0)
            : entries.inNamespace(namespace).runnableInformer(0);
    informer.addEventHandler(new Handler());
    informer.exceptionHandler(
        (started, failure) -> {
          LOG.debug("watch of WorkloadEntries failed; fabric8 retries it", failure);
          return true;
        });
    informer.start();
    LOG.debug("watching WorkloadEntries in {}", namespace.isEmpty() ? "all namespaces" : namespace);
    return informer;
  }

  /** Queues entries the controller is concerned with when they change in a way that matters. */
  private final class Handler implements ResourceEventHandler<GenericKubernetesResource> {
    @Override
    public void onAdd(GenericKubernetesResource entry) {
      if (Entries.concernsController(entry) && owns(Entries.key(entry))) {
        queue.add(Entries.key(entry));
      }
    }

    @Override
    public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource entry) {
      if ((Entries.concernsController(entry) || Entries.concernsController(old))
          && owns(Entries.key(entry))
          && !Entries.relevantState(old, json).equals(Entries.relevantState(entry, json))) {
        queue.add(Entries.key(entry));
      }
    }

    @Override
    public void onDelete(GenericKubernetesResource entry, boolean finalStateUnknown) {
      reconciler.forget(Entries.key(entry), true);
      hashes.remove(Entries.key(entry));
    }
  }

  private EntryHash hash(String key) {
    return hashes.computeIfAbsent(
        key, k -> EntryHash.of(k, settings.sharding().map(Sharding::shards).orElse(1)));
  }

  /** Whether this replica works {@code key} now. */
  private boolean owns(String key) {
    return everything || shards.contains(hash(key).shard());
  }

  private boolean inShard(String key, int shard) {
    return !everything && hash(key).shard() == shard;
  }

  @Override
  public void start(int shard) {
    if (closed || !shards.add(shard)) {
      return;
    }
    activity();
    // What another replica did meanwhile is unknown: every entry is onboarded again (the
    // pipeline's CHECK stage leaves an up-to-date VM alone), as a newly elected leader did.
    for (SharedIndexInformer<GenericKubernetesResource> informer : informers.values()) {
      for (GenericKubernetesResource entry : informer.getStore().list()) {
        String key = Entries.key(entry);
        if (Entries.concernsController(entry) && inShard(key, shard)) {
          reconciler.forget(key, false);
          queue.add(key);
        }
      }
    }
  }

  @Override
  public void stop(int shard, boolean interrupt) {
    shards.remove(shard);
    queue.drop(key -> inShard(key, shard), interrupt);
    activity();
  }

  @Override
  public boolean busy(int shard) {
    return queue.holds(key -> inShard(key, shard));
  }

  /** Whether this replica works any entry (a shard, or everything without sharding). */
  boolean isActive() {
    return !closed && (everything || !shards.isEmpty());
  }

  /** Emits ActivityChanged when this replica starts or stops working. */
  private synchronized void activity() {
    boolean now = isActive();
    if (now != active) {
      active = now;
      settings
          .events()
          .emit(
              new ControllerEvent.ActivityChanged(
                  settings.identity(), now, settings.clock().instant()));
    }
  }

  /** The resource version of the cached entry {@code key}, or null. */
  String cachedVersion(String key) {
    GenericKubernetesResource entry = cached(key);
    return entry == null ? null : entry.getMetadata().getResourceVersion();
  }

  private GenericKubernetesResource cached(String key) {
    String namespace = key.substring(0, key.indexOf('/'));
    SharedIndexInformer<GenericKubernetesResource> informer =
        informers.getOrDefault(namespace, informers.get(""));
    return informer == null ? null : informer.getStore().getByKey(key);
  }

  private void work() {
    while (!closed) {
      String key;
      try {
        key = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (key == null) {
        return;
      }
      try {
        if (owns(key)) {
          Reconciler.Outcome outcome = reconciler.reconcile(key);
          if (outcome.retry() && !closed && owns(key)) {
            requeue(key, outcome);
          }
        }
      } catch (RuntimeException | Error e) {
        LOG.error("reconciling {} failed unexpectedly", key, e);
        if (!closed && owns(key)) {
          requeue(key, new Reconciler.Outcome(true, 1, String.valueOf(e)));
        }
      } finally {
        queue.done(key);
        if (!closed) {
          // An interrupt that stopped this key's run (its shard was let go) ends with it.
          Thread.interrupted();
        }
      }
    }
  }

  private void requeue(String key, Reconciler.Outcome outcome) {
    Duration delay = settings.requeueBackoff().backoffAfter(outcome.failures());
    backingOff.add(key);
    scheduler.schedule(
        () -> {
          backingOff.remove(key);
          if (owns(key)) {
            queue.add(key);
          }
        },
        delay.toMillis(),
        TimeUnit.MILLISECONDS);
    LOG.warn(
        "{}: failure {} in a row, next try in {} ms: {}",
        key,
        outcome.failures(),
        delay.toMillis(),
        outcome.reason());
    settings
        .events()
        .emit(
            new ControllerEvent.Requeued(
                Entries.ref(key),
                outcome.failures(),
                delay,
                outcome.reason(),
                settings.clock().instant()));
  }

  /** Queues entries whose token is due and, once per resync period, every entry. */
  private void tick() {
    try {
      boolean resync = System.nanoTime() - lastResync >= settings.resyncPeriod().toNanos();
      if (resync) {
        lastResync = System.nanoTime();
      }
      for (SharedIndexInformer<GenericKubernetesResource> informer : informers.values()) {
        for (GenericKubernetesResource entry : informer.getStore().list()) {
          String key = Entries.key(entry);
          if (!Entries.concernsController(entry) || backingOff.contains(key) || !owns(key)) {
            continue;
          }
          if (resync) {
            reconciler.forget(key, false);
            queue.add(key);
          } else if (Entries.isManaged(entry)
              && !Entries.isDeleting(entry)
              && reconciler.tokenDue(entry, hash(key).fraction())) {
            queue.add(key);
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("the periodic check failed; it runs again", e);
    }
  }

  /**
   * Stops everything, interrupting runs in flight; whether they all ended within the wait (then no
   * run of this replica is in flight any more).
   */
  boolean close() {
    closed = true;
    queue.shutDown();
    workers.shutdownNow();
    scheduler.shutdownNow();
    informers.values().forEach(SharedIndexInformer::stop);
    pipelines.close();
    boolean stopped = false;
    try {
      stopped = workers.awaitTermination(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (!stopped) {
        LOG.warn("reconciles still running {} after the controller stopped", SHUTDOWN_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    activity();
    return stopped;
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
