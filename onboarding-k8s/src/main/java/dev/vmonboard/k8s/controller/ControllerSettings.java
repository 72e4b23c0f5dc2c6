package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.k8s.KubernetesCluster;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** Everything a controller was built with; read-only, shared by its sessions. */
record ControllerSettings(
    KubernetesCluster cluster,
    BundleFactory bundleFactory,
    VmStagesFactory vmStages,
    Optional<SecretName> credentialsSecret,
    List<String> namespaces,
    int concurrency,
    RetryPolicy requeueBackoff,
    Duration tokenLifetime,
    Duration tokenRefreshMargin,
    Duration refreshCheckInterval,
    Duration resyncPeriod,
    Optional<Sharding> sharding,
    String identity,
    Clock clock,
    Consumer<OnboardingPipeline.Builder> pipelineOptions,
    Events events) {

  /**
   * How long before expiry a token may be replaced at the earliest: half its lifetime, or the
   * refresh margin when that is longer. Each entry's refresh falls at its own point between this
   * and the margin.
   */
  Duration refreshWindowStart() {
    Duration half = tokenLifetime.dividedBy(2);
    return half.compareTo(tokenRefreshMargin) > 0 ? half : tokenRefreshMargin;
  }

  /** A Secret's namespace and name. */
  record SecretName(String namespace, String name) {
    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }
}
