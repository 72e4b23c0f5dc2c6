package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * How replicas of the controller share the work: the WorkloadEntries are split into {@link
 * #shards()} shards by a stable hash of {@code namespace/name}, and each shard is owned through its
 * own {@code coordination.k8s.io/v1} {@code Lease} ({@code NAME-shard-0}, {@code NAME-shard-1},
 * ...). Each replica also renews a membership Lease ({@code NAME-member-IDENTITY}), so every
 * replica knows how many are alive and aims at {@code ceil(shards / live replicas)} shards; one
 * holding more finishes the work in flight on its extra shards and releases them for newcomers.
 *
 * <p>An entry is worked by exactly one replica at a time: a replica that cannot renew a shard's
 * Lease within the renew deadline stops working that shard (interrupting its runs in flight) before
 * the Lease can expire, and another replica takes a shard only once its Lease was released or went
 * unrenewed for the lease duration, as that replica observed it (no comparison of clocks between
 * replicas). So the shards of a lost replica move within one lease duration (plus two retry
 * periods). Defaults: 16 shards, lease 15 s, renew deadline 10 s, retry period 2 s. Every replica
 * must use the same shard count; a replica that sees a live replica with another count works no
 * shard until they agree (for example during a rollout that changes it). Immutable.
 */
public final class Sharding {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final int MAX_SHARDS = 1024;

  private final String namespace;
  private final String name;
  private final String identity;
  private final int shards;
  private final Duration leaseDuration;
  private final Duration renewDeadline;
  private final Duration retryPeriod;

  private Sharding(
      String namespace,
      String name,
      String identity,
      int shards,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod) {
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.shards = shards;
    this.leaseDuration = leaseDuration;
    this.renewDeadline = renewDeadline;
    this.retryPeriod = retryPeriod;
  }

  /**
   * Sharding on the Leases named {@code name-...} in {@code namespace}; this replica's identity is
   * the {@code HOSTNAME} environment variable (the pod name in Kubernetes) with a random suffix,
   * unless {@link #withIdentity(String)} says otherwise.
   */
  public static Sharding leases(String namespace, String name) {
    return new Sharding(
            namespace,
            name,
            defaultIdentity(),
            16,
            Duration.ofSeconds(15),
            Duration.ofSeconds(10),
            Duration.ofSeconds(2))
        .validated();
  }

  /** The same sharding with this replica named {@code identity} (unique among replicas). */
  public Sharding withIdentity(String identity) {
    return new Sharding(
            namespace, name, identity, shards, leaseDuration, renewDeadline, retryPeriod)
        .validated();
  }

  /**
   * The same sharding with {@code shards} shards (1 to 1024; 16 by default). More shards than
   * replicas let the work spread evenly; every replica must use the same number.
   */
  public Sharding withShards(int shards) {
    return new Sharding(
            namespace, name, identity, shards, leaseDuration, renewDeadline, retryPeriod)
        .validated();
  }

  /**
   * The same sharding with other timings: how long a Lease lasts without renewal (and so how soon a
   * lost replica's shards move), how long a replica keeps trying to renew before it stops working a
   * shard, how often replicas renew, count each other and balance.
   */
  public Sharding withTimings(
      Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
    return new Sharding(
            namespace, name, identity, shards, leaseDuration, renewDeadline, retryPeriod)
        .validated();
  }

  /** The Leases' namespace. */
  public String namespace() {
    return namespace;
  }

  /** The prefix of the Leases' names. */
  public String name() {
    return name;
  }

  /** This replica's identity, as the Leases' {@code holderIdentity} shows it. */
  public String identity() {
    return identity;
  }

  /** How many shards the entries are split into. */
  public int shards() {
    return shards;
  }

  Duration leaseDuration() {
    return leaseDuration;
  }

  Duration renewDeadline() {
    return renewDeadline;
  }

  Duration retryPeriod() {
    return retryPeriod;
  }

  static String defaultIdentity() {
    String host = System.getenv("HOSTNAME");
    String base = host == null || host.isBlank() ? "vmonboard" : host.strip();
    return base + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private Sharding validated() {
    List<Problem> problems = new ArrayList<>();
    if (namespace == null || namespace.isBlank()) {
      problems.add(Problem.of("namespace", "is missing: the namespace of the Leases"));
    }
    if (name == null || !NAME.matcher(name).matches() || name.length() > 200) {
      problems.add(
          Problem.of(
              "name",
              "must be a lowercase DNS label of at most 200 characters (the Leases' name prefix),"
                  + " not "
                  + name));
    }
    if (identity == null || identity.isBlank()) {
      problems.add(Problem.of("identity", "is empty: every replica needs a unique identity"));
    }
    if (shards < 1 || shards > MAX_SHARDS) {
      problems.add(Problem.of("shards", "must be 1 to " + MAX_SHARDS + ", not " + shards));
    }
    for (Duration d : List.of(leaseDuration, renewDeadline, retryPeriod)) {
      Objects.requireNonNull(d, "durations");
      if (d.isZero() || d.isNegative()) {
        problems.add(Problem.of("timings", "must be positive durations, not " + d));
      }
    }
    if (leaseDuration.toMillis() % 1000 != 0) {
      problems.add(
          Problem.of(
              "leaseDuration",
              "must be whole seconds (a Lease records it in seconds), not " + leaseDuration));
    }
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      problems.add(
          Problem.of(
              "renewDeadline",
              "must be shorter than the lease duration ("
                  + leaseDuration
                  + "), or two replicas could work an entry at once"));
    }
    if (retryPeriod.compareTo(renewDeadline) >= 0) {
      problems.add(
          Problem.of(
              "retryPeriod", "must be shorter than the renew deadline (" + renewDeadline + ")"));
    }
    InvalidInputException.throwIfAny(null, "sharding", problems);
    return this;
  }

  @Override
  public String toString() {
    return "Sharding["
        + shards
        + " shards on Leases "
        + namespace
        + "/"
        + name
        + "-* as "
        + identity
        + ", lease "
        + leaseDuration
        + ", renew deadline "
        + renewDeadline
        + ", retry "
        + retryPeriod
        + "]";
  }
}
