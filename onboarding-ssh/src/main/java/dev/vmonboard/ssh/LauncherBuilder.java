package dev.vmonboard.ssh;

import java.time.Duration;
import java.util.Objects;

/**
 * What both launchers' builders share: the connector, {@code sudo -n}, and how readiness is polled.
 * Its public methods are part of each launcher's public builder.
 *
 * @param <B> the launcher's own builder
 */
abstract class LauncherBuilder<B extends LauncherBuilder<B>> {

  final SshConnector connector;
  boolean sudo;
  Duration readinessTimeout = Duration.ofSeconds(120);
  Duration pollInterval = Duration.ofMillis(500);

  LauncherBuilder(SshConnector connector) {
    this.connector = Objects.requireNonNull(connector, "connector");
  }

  abstract B self();

  /** Runs the remote commands that need privileges through {@code sudo -n} (no password). */
  public B sudo() {
    this.sudo = true;
    return self();
  }

  /** How long to wait for the proxy to answer ready (120 s if unset). */
  public B readinessTimeout(Duration timeout) {
    this.readinessTimeout = Objects.requireNonNull(timeout);
    return self();
  }

  /** How often to probe readiness (500 ms if unset). */
  public B pollInterval(Duration interval) {
    this.pollInterval = Objects.requireNonNull(interval);
    return self();
  }

  Readiness readiness() {
    return new Readiness(readinessTimeout, pollInterval);
  }
}
