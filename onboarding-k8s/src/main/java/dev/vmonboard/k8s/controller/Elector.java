package dev.vmonboard.k8s.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs fabric8's {@code LeaderElector} on a Lease for as long as the controller runs: it calls
 * {@code onStart} when this replica becomes the leader and {@code onStop} when it stops being one
 * (renew deadline passed, Lease taken, or {@link #close()}), then campaigns again. Closing it
 * releases a held Lease so that another replica takes over at once instead of after the lease
 * duration.
 */
final class Elector implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Elector.class);

  private final KubernetesClient client;
  private final LeaderElection election;
  private final LeaderElectionConfig config;
  private final ScheduledExecutorService retry =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "vmonboard-election");
            thread.setDaemon(true);
            return thread;
          });
  private volatile CompletableFuture<?> campaign;
  private volatile boolean closed;

  Elector(KubernetesClient client, LeaderElection election, Runnable onStart, Runnable onStop) {
    this.client = client;
    this.election = election;
    this.config =
        new LeaderElectionConfigBuilder()
            .withName("vmonboard-controller")
            .withLock(new LeaseLock(election.namespace(), election.name(), election.identity()))
            .withLeaseDuration(election.leaseDuration())
            .withRenewDeadline(election.renewDeadline())
            .withRetryPeriod(election.retryPeriod())
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(
                    onStart,
                    onStop,
                    leader ->
                        LOG.info(
                            "Lease {}/{} held by {}",
                            election.namespace(),
                            election.name(),
                            leader)))
            .build();
  }

  synchronized void start() {
    if (closed) {
      return;
    }
    LOG.debug(
        "{} campaigns for Lease {}/{}", election.identity(), election.namespace(), election.name());
    CompletableFuture<?> started = client.leaderElector().withConfig(config).build().start();
    campaign = started;
    started.whenComplete(
        (ignored, failure) -> {
          if (!closed) {
            LOG.info(
                "{} is no longer the leader{}; campaigning again",
                election.identity(),
                failure == null ? "" : " (" + failure.getMessage() + ")");
            retry.schedule(this::start, election.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
          }
        });
  }

  @Override
  public void close() {
    CompletableFuture<?> current;
    synchronized (this) {
      closed = true;
      current = campaign;
    }
    retry.shutdownNow();
    if (current != null) {
      // Cancelling releases the Lease (releaseOnCancel) and calls onStop, in this thread.
      current.cancel(true);
    }
  }
}
