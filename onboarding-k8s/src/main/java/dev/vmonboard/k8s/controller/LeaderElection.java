package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings of the single-leader controller, kept so that code written for it still compiles and
 * runs: {@link OnboardingController.Builder#leaderElection(LeaderElection)} now means {@link
 * Sharding} on Leases named after this one ({@code NAME-shard-N}, {@code NAME-member-IDENTITY}),
 * with this identity and these timings, so every replica works a share of the entries instead of
 * one working and the others waiting. With one replica it behaves as the leader did. New code uses
 * {@link Sharding}. Immutable.
 *
 * <p>As before, {@code renewDeadline < leaseDuration} (the builder checks it), and a replica that
 * cannot renew within the renew deadline stops working before its Leases can expire. Defaults:
 * lease 15 s, renew deadline 10 s, retry period 2 s (those of Kubernetes' own controllers).
 */
public final class LeaderElection {

  private final String namespace;
  private final String name;
  private final String identity;
  private final Duration leaseDuration;
  private final Duration renewDeadline;
  private final Duration retryPeriod;

  private LeaderElection(
      String namespace,
      String name,
      String identity,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod) {
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.leaseDuration = leaseDuration;
    this.renewDeadline = renewDeadline;
    this.retryPeriod = retryPeriod;
  }

  /**
   * Election on the Lease {@code namespace/name} (now: sharding on the Leases {@code name-*}); this
   * replica's identity is the {@code HOSTNAME} environment variable (the pod name in Kubernetes)
   * with a random suffix, unless {@link #withIdentity(String)} says otherwise.
   */
  public static LeaderElection lease(String namespace, String name) {
    return new LeaderElection(
            namespace,
            name,
            Sharding.defaultIdentity(),
            Duration.ofSeconds(15),
            Duration.ofSeconds(10),
            Duration.ofSeconds(2))
        .validated();
  }

  /** The same election with this replica named {@code identity} (unique among replicas). */
  public LeaderElection withIdentity(String identity) {
    return new LeaderElection(namespace, name, identity, leaseDuration, renewDeadline, retryPeriod)
        .validated();
  }

  /**
   * The same election with other timings: how long a lease lasts without renewal, how long the
   * active replica keeps trying to renew before it stops working, how often replicas try.
   */
  public LeaderElection withTimings(
      Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
    return new LeaderElection(namespace, name, identity, leaseDuration, renewDeadline, retryPeriod)
        .validated();
  }

  /** The Lease's namespace. */
  public String namespace() {
    return namespace;
  }

  /** The Lease's name. */
  public String name() {
    return name;
  }

  /** This replica's identity, as the Lease's {@code holderIdentity} shows it. */
  public String identity() {
    return identity;
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

  private LeaderElection validated() {
    List<Problem> problems = new ArrayList<>();
    if (namespace == null || namespace.isBlank()) {
      problems.add(Problem.of("namespace", "is missing: the namespace of the Lease"));
    }
    if (name == null || name.isBlank()) {
      problems.add(Problem.of("name", "is missing: the name of the Lease"));
    }
    if (identity == null || identity.isBlank()) {
      problems.add(Problem.of("identity", "is empty: every replica needs a unique identity"));
    }
    for (Duration d : List.of(leaseDuration, renewDeadline, retryPeriod)) {
      Objects.requireNonNull(d, "durations");
      if (d.isZero() || d.isNegative()) {
        problems.add(Problem.of("timings", "must be positive durations, not " + d));
      }
    }
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      problems.add(
          Problem.of(
              "renewDeadline",
              "must be shorter than the lease duration ("
                  + leaseDuration
                  + "), or two replicas could work at once"));
    }
    if (retryPeriod.compareTo(renewDeadline) >= 0) {
      problems.add(
          Problem.of(
              "retryPeriod", "must be shorter than the renew deadline (" + renewDeadline + ")"));
    }
    InvalidInputException.throwIfAny(null, "leader election", problems);
    return this;
  }

  @Override
  public String toString() {
    return "LeaderElection[Lease "
        + namespace
        + "/"
        + name
        + " as "
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
