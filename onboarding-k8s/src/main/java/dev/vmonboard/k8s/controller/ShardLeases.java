package dev.vmonboard.k8s.controller;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns shards through their Leases, as {@link Sharding} describes: one step every retry period
 * lists the Leases, renews this replica's membership Lease and the shard Leases it holds, counts
 * the live replicas, releases shards above its fair share once their runs in flight are over, and
 * takes free shards up to it. A watchdog, independent of the steps (which may hang on the network),
 * stops work on every shard whose Lease was not renewed within the renew deadline.
 *
 * <p>Expiry is judged the way Kubernetes' leader election judges it: by when this replica last saw
 * a Lease change (its resource version), on this replica's monotonic clock, never by comparing the
 * time another replica wrote into it. Every write is a compare-and-swap on the resource version
 * (create, or update of the version read), so two replicas never both get a shard's Lease.
 *
 * <p>Only {@code list}, {@code create}, {@code update} and {@code delete} of Leases are used (the
 * controller's RBAC grants exactly these).
 */
final class ShardLeases {

  /** The controller's side of a shard: start it, stop it, and whether its runs are over. */
  interface Work {
    /** Work the entries of {@code shard} from now on. */
    void start(int shard);

    /**
     * Stop handing out {@code shard}'s entries; with {@code interrupt}, interrupt its runs in
     * flight too.
     */
    void stop(int shard, boolean interrupt);

    /** Whether a run of one of {@code shard}'s entries is still in flight. */
    boolean busy(int shard);
  }

  /** The annotation on every Lease that records the shard count its writer used. */
  static final String SHARDS_ANNOTATION = "vmonboard.dev/shards";

  private static final Logger LOG = LoggerFactory.getLogger(ShardLeases.class);
  private static final int GARBAGE_AFTER_LEASES = 4;

  private final KubernetesClient client;
  private final Sharding sharding;
  private final Work work;
  private final LongSupplier nanos;
  private final Clock wallClock;
  private final String memberName;
  private final long leaseNanos;
  private final long renewDeadlineNanos;

  /** The shards this replica holds (working or draining), by shard; guarded by this. */
  private final Map<Integer, Held> held = new HashMap<>();

  /** When each Lease was last seen to change, by name; touched by the stepping thread only. */
  private final Map<String, Seen> seen = new HashMap<>();

  private ScheduledExecutorService scheduler;
  private boolean registered;
  private boolean closing;

  /** A held shard: the Lease as last written, when that write was sent, whether it is let go. */
  private static final class Held {
    Lease lease;
    long renewedAt;
    boolean draining;

    Held(Lease lease, long renewedAt) {
      this.lease = lease;
      this.renewedAt = renewedAt;
    }
  }

  /** A Lease's resource version and when it was first seen with it. */
  private record Seen(String resourceVersion, long since) {}

  ShardLeases(KubernetesClient client, Sharding sharding, Work work, LongSupplier nanos) {
    this.client = client;
    this.sharding = sharding;
    this.work = work;
    this.nanos = nanos;
    this.wallClock = Clock.systemUTC();
    this.memberName = memberLeaseName(sharding);
    this.leaseNanos = sharding.leaseDuration().toNanos();
    this.renewDeadlineNanos = sharding.renewDeadline().toNanos();
  }

  /** Steps every retry period and runs the watchdog, on two daemon threads, until closed. */
  synchronized void start() {
    scheduler =
        Executors.newScheduledThreadPool(
            2,
            runnable -> {
              Thread thread = new Thread(runnable, "vmonboard-shards");
              thread.setDaemon(true);
              return thread;
            });
    long period = sharding.retryPeriod().toMillis();
    scheduler.scheduleWithFixedDelay(this::stepSafely, 0, period, TimeUnit.MILLISECONDS);
    long watch = Math.max(10, Math.min(period, (leaseNanos - renewDeadlineNanos) / 2_000_000) / 2);
    scheduler.scheduleWithFixedDelay(this::enforceDeadlines, watch, watch, TimeUnit.MILLISECONDS);
  }

  /** The shard Lease's name. */
  static String shardLeaseName(Sharding sharding, int shard) {
    return sharding.name() + "-shard-" + shard;
  }

  /**
   * The membership Lease's name: the identity as a DNS subdomain; with a hash of the identity when
   * it had to be changed to fit, so that two identities never share one.
   */
  static String memberLeaseName(Sharding sharding) {
    String identity = sharding.identity();
    String cleaned =
        identity.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-").replaceAll("^[-.]+", "");
    String prefix = sharding.name() + "-member-";
    if (cleaned.equals(identity) && prefix.length() + cleaned.length() <= 253) {
      return prefix + cleaned;
    }
    String hash =
        Integer.toHexString(
            java.util.Arrays.hashCode(identity.getBytes(StandardCharsets.UTF_8)) & 0x7fffffff);
    int room = 253 - prefix.length() - hash.length() - 1;
    String kept = cleaned.substring(0, Math.min(cleaned.length(), room)).replaceAll("[-.]+$", "");
    return prefix + (kept.isEmpty() ? "" : kept + "-") + hash;
  }

  /** The shards this replica works now (held and not being released), in order. */
  synchronized List<Integer> workingShards() {
    List<Integer> shards = new ArrayList<>();
    held.forEach(
        (shard, h) -> {
          if (!h.draining) {
            shards.add(shard);
          }
        });
    shards.sort(null);
    return shards;
  }

  private void stepSafely() {
    try {
      step();
    } catch (RuntimeException e) {
      LOG.warn("{}: the shard step failed; it runs again", sharding.identity(), e);
    }
  }

  /**
   * One round: list, observe, renew, count replicas, balance. Package-private so that a test can
   * drive it with its own clock.
   */
  void step() {
    List<Lease> all;
    try {
      all = client.leases().inNamespace(sharding.namespace()).list().getItems();
    } catch (KubernetesClientException e) {
      LOG.warn(
          "{}: cannot list the Leases in {} ({}); work on held shards stops at the renew deadline",
          sharding.identity(),
          sharding.namespace(),
          EntryWriter.describe(e));
      return;
    }
    long listedAt = nanos.getAsLong();
    Map<String, Lease> leases = new HashMap<>();
    for (Lease lease : all) {
      if (lease.getMetadata().getName().startsWith(sharding.name() + "-")) {
        leases.put(lease.getMetadata().getName(), lease);
      }
    }
    observe(leases, listedAt);
    renewMembership(leases.get(memberName));
    renewHeld(leases);
    boolean closingNow;
    synchronized (this) {
      closingNow = closing;
    }
    if (!closingNow) {
      releaseDrained();
      // Balancing starts once this replica's membership is visible, so that replicas started
      // together see each other before they take shards.
      registered = registered || leases.containsKey(memberName);
      if (registered) {
        balance(leases, listedAt);
      }
      collectGarbage(leases, listedAt);
    }
  }

  private void observe(Map<String, Lease> leases, long now) {
    seen.keySet().retainAll(leases.keySet());
    leases.forEach(
        (name, lease) -> {
          String version = lease.getMetadata().getResourceVersion();
          Seen before = seen.get(name);
          if (before == null || !before.resourceVersion().equals(version)) {
            seen.put(name, new Seen(version, now));
          }
        });
  }

  /** Whether {@code lease} is free: released, or not seen to change for its lease duration. */
  private boolean free(Lease lease, long now) {
    String holder = lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    if (holder == null || holder.isBlank()) {
      return true;
    }
    Seen since = seen.get(lease.getMetadata().getName());
    return since != null && now - since.since() >= durationOf(lease);
  }

  private long durationOf(Lease lease) {
    Integer seconds = lease.getSpec() == null ? null : lease.getSpec().getLeaseDurationSeconds();
    return seconds == null ? leaseNanos : Math.max(leaseNanos, seconds * 1_000_000_000L);
  }

  private void renewMembership(Lease current) {
    try {
      if (current == null) {
        client.leases().inNamespace(sharding.namespace()).resource(newLease(memberName)).create();
      } else {
        client.leases().inNamespace(sharding.namespace()).resource(renewed(current)).update();
      }
    } catch (KubernetesClientException e) {
      LOG.debug("{}: membership not renewed: {}", sharding.identity(), EntryWriter.describe(e));
    }
  }

  private void renewHeld(Map<String, Lease> leases) {
    Map<Integer, Held> snapshot;
    synchronized (this) {
      snapshot = new HashMap<>(held);
    }
    snapshot.forEach(
        (shard, h) -> {
          Lease current = leases.get(shardLeaseName(sharding, shard));
          if (current == null || !sharding.identity().equals(holderOf(current))) {
            lose(shard, h, "its Lease was taken or deleted");
            return;
          }
          long sentAt = nanos.getAsLong();
          try {
            Lease written =
                client
                    .leases()
                    .inNamespace(sharding.namespace())
                    .resource(renewed(current))
                    .update();
            synchronized (this) {
              if (held.get(shard) == h) {
                h.lease = written;
                h.renewedAt = sentAt;
              }
            }
          } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
              lose(shard, h, "its Lease changed under this replica");
            } else {
              LOG.warn(
                  "{}: cannot renew the Lease of shard {} ({})",
                  sharding.identity(),
                  shard,
                  EntryWriter.describe(e));
            }
          }
        });
  }

  private void lose(int shard, Held h, String why) {
    synchronized (this) {
      if (held.get(shard) != h) {
        return;
      }
      held.remove(shard);
    }
    LOG.warn("{} stops working shard {}: {}", sharding.identity(), shard, why);
    work.stop(shard, true);
  }

  /**
   * Stops work on every shard whose Lease was not renewed within the renew deadline: before the
   * Lease can expire for the other replicas, since they count its duration from a moment no earlier
   * than this replica's last renewal was sent.
   */
  void enforceDeadlines() {
    long now = nanos.getAsLong();
    List<Integer> late = new ArrayList<>();
    synchronized (this) {
      held.entrySet()
          .removeIf(
              e -> {
                if (now - e.getValue().renewedAt >= renewDeadlineNanos) {
                  late.add(e.getKey());
                  return true;
                }
                return false;
              });
    }
    for (int shard : late) {
      LOG.warn(
          "{} stops working shard {}: its Lease was not renewed within {}",
          sharding.identity(),
          shard,
          sharding.renewDeadline());
      work.stop(shard, true);
    }
  }

  private void balance(Map<String, Lease> leases, long now) {
    int live = 1;
    boolean disagree = false;
    for (Lease lease : leases.values()) {
      String name = lease.getMetadata().getName();
      if (!name.startsWith(sharding.name() + "-member-") || name.equals(memberName)) {
        continue;
      }
      if (!free(lease, now)) {
        live++;
        String theirs = annotation(lease);
        if (theirs != null && !theirs.equals(Integer.toString(sharding.shards()))) {
          disagree = true;
          LOG.warn(
              "{}: replica {} splits the entries into {} shards, this one into {}: working no"
                  + " shard until all replicas use the same count",
              sharding.identity(),
              holderOf(lease),
              theirs,
              sharding.shards());
        }
      }
    }
    int target = disagree ? 0 : (sharding.shards() + live - 1) / live;
    List<Integer> working = workingShards();
    for (int i = target; i < working.size(); i++) {
      int shard = working.get(working.size() - 1 - (i - target));
      synchronized (this) {
        Held h = held.get(shard);
        if (h == null) {
          continue;
        }
        h.draining = true;
      }
      LOG.info(
          "{} lets shard {} go ({} live replicas, fair share {})",
          sharding.identity(),
          shard,
          live,
          target);
      work.stop(shard, false);
    }
    int wanted = target - working.size();
    int start = Math.floorMod(sharding.identity().hashCode(), sharding.shards());
    for (int i = 0; i < sharding.shards() && wanted > 0; i++) {
      int shard = (start + i) % sharding.shards();
      synchronized (this) {
        if (held.containsKey(shard)) {
          continue;
        }
      }
      Lease lease = leases.get(shardLeaseName(sharding, shard));
      if (lease == null || free(lease, now)) {
        if (acquire(shard, lease)) {
          wanted--;
        }
      }
    }
  }

  private boolean acquire(int shard, Lease current) {
    long sentAt = nanos.getAsLong();
    Lease written;
    try {
      var leases = client.leases().inNamespace(sharding.namespace());
      written =
          current == null
              ? leases.resource(newLease(shardLeaseName(sharding, shard))).create()
              : leases.resource(taken(current)).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        LOG.warn(
            "{}: cannot take the Lease of shard {} ({})",
            sharding.identity(),
            shard,
            EntryWriter.describe(e));
      }
      return false;
    }
    synchronized (this) {
      if (closing || nanos.getAsLong() - sentAt >= renewDeadlineNanos) {
        // Too late to work it safely (or shutting down): the Lease expires unrenewed.
        return false;
      }
      held.put(shard, new Held(written, sentAt));
    }
    LOG.info("{} works shard {}", sharding.identity(), shard);
    work.start(shard);
    return true;
  }

  private void releaseDrained() {
    Map<Integer, Held> drained = new HashMap<>();
    synchronized (this) {
      held.forEach(
          (shard, h) -> {
            if (h.draining) {
              drained.put(shard, h);
            }
          });
    }
    drained.forEach(
        (shard, h) -> {
          if (!work.busy(shard)) {
            release(shard, h);
          }
        });
  }

  /** Gives a shard's Lease up at once (its work is over): another replica may take it now. */
  private void release(int shard, Held h) {
    synchronized (this) {
      if (held.get(shard) != h) {
        return;
      }
    }
    try {
      Lease released =
          new LeaseBuilder(h.lease).editSpec().withHolderIdentity(null).endSpec().build();
      client.leases().inNamespace(sharding.namespace()).resource(released).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409 && e.getCode() != 404) {
        LOG.warn(
            "{}: cannot release shard {} ({}); it is taken over when its Lease expires",
            sharding.identity(),
            shard,
            EntryWriter.describe(e));
        return;
      }
    }
    synchronized (this) {
      if (held.get(shard) == h) {
        held.remove(shard);
      }
    }
    LOG.info("{} released shard {}", sharding.identity(), shard);
  }

  /** Deletes membership Leases left by replicas gone for a while (pods are renamed on restart). */
  private void collectGarbage(Map<String, Lease> leases, long now) {
    leases.forEach(
        (name, lease) -> {
          Seen since = seen.get(name);
          if (name.startsWith(sharding.name() + "-member-")
              && !name.equals(memberName)
              && since != null
              && now - since.since() >= GARBAGE_AFTER_LEASES * durationOf(lease)) {
            try {
              client.leases().inNamespace(sharding.namespace()).resource(lease).delete();
              LOG.info("{}: deleted the stale membership Lease {}", sharding.identity(), name);
            } catch (KubernetesClientException e) {
              LOG.debug("cannot delete the stale Lease {}: {}", name, e.getMessage());
            }
          }
        });
  }

  /**
   * Stops taking shards, and keeps renewing the held ones until {@link #close(boolean)}, so that
   * they cannot expire while the controller stops its work.
   */
  synchronized void beginClosing() {
    closing = true;
  }

  /**
   * Stops stepping; then, when {@code workStopped} (no run of any shard is in flight any more),
   * releases the held shards and deletes the membership Lease so that the other replicas take over
   * at once. Otherwise the Leases are left to expire.
   */
  void close(boolean workStopped) {
    ScheduledExecutorService running;
    Map<Integer, Held> snapshot;
    synchronized (this) {
      closing = true;
      running = scheduler;
    }
    if (running != null) {
      running.shutdown();
      try {
        if (!running.awaitTermination(sharding.renewDeadline().toMillis(), TimeUnit.MILLISECONDS)) {
          running.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      snapshot = new HashMap<>(held);
    }
    if (!workStopped) {
      LOG.warn(
          "{}: runs still in flight; its Leases are left to expire instead of being released",
          sharding.identity());
    } else {
      snapshot.forEach((shard, h) -> release(shard, h));
    }
    synchronized (this) {
      // Closed: nothing is worked any more, whether the Leases were released or left to expire.
      held.clear();
    }
    if (!workStopped) {
      return;
    }
    try {
      client.leases().inNamespace(sharding.namespace()).withName(memberName).delete();
    } catch (KubernetesClientException e) {
      LOG.debug("cannot delete the membership Lease {}: {}", memberName, e.getMessage());
    }
  }

  private Lease newLease(String name) {
    ZonedDateTime now = ZonedDateTime.now(wallClock);
    return new LeaseBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(sharding.namespace())
                .addToAnnotations(SHARDS_ANNOTATION, Integer.toString(sharding.shards()))
                .addToLabels("app.kubernetes.io/managed-by", "vmonboard-controller")
                .build())
        .withNewSpec()
        .withHolderIdentity(sharding.identity())
        .withLeaseDurationSeconds(leaseSeconds())
        .withAcquireTime(now)
        .withRenewTime(now)
        .withLeaseTransitions(0)
        .endSpec()
        .build();
  }

  /** {@code current} renewed by this replica (which holds it). */
  private Lease renewed(Lease current) {
    return new LeaseBuilder(current)
        .editMetadata()
        .addToAnnotations(SHARDS_ANNOTATION, Integer.toString(sharding.shards()))
        .endMetadata()
        .editOrNewSpec()
        .withHolderIdentity(sharding.identity())
        .withLeaseDurationSeconds(leaseSeconds())
        .withRenewTime(ZonedDateTime.now(wallClock))
        .endSpec()
        .build();
  }

  /** {@code current}, free, taken by this replica. */
  private Lease taken(Lease current) {
    Integer transitions =
        current.getSpec() == null ? null : current.getSpec().getLeaseTransitions();
    return new LeaseBuilder(renewed(current))
        .editSpec()
        .withAcquireTime(ZonedDateTime.now(wallClock))
        .withLeaseTransitions(transitions == null ? 1 : transitions + 1)
        .endSpec()
        .build();
  }

  private int leaseSeconds() {
    return (int) sharding.leaseDuration().toSeconds();
  }

  private static String holderOf(Lease lease) {
    return lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static String annotation(Lease lease) {
    Map<String, String> annotations = lease.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(SHARDS_ANNOTATION);
  }

  /** The shards this replica holds in any state (for the tests). */
  synchronized TreeSet<Integer> heldShards() {
    return new TreeSet<>(held.keySet());
  }
}
