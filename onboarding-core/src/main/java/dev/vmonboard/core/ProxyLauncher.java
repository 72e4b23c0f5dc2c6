package dev.vmonboard.core;

import java.util.List;

/**
 * Stage 4: starts the proxy from the bundle's {@link LaunchSpec}, checks it came up, reports its
 * status, and stops and removes it.
 *
 * <p>Defaults in {@code onboarding-ssh}: {@code ContainerProxyLauncher} (docker or podman) and
 * {@code SystemdProxyLauncher}. {@link #none()} is the explicit choice of a pipeline that only
 * delivers. A launcher may keep the proxy that a launch replaces until the pipeline knows the new
 * one works ({@link #restorePrevious}, {@link #discardPrevious}). Implementations must be
 * thread-safe.
 */
public interface ProxyLauncher {

  /**
   * Starts (or restarts) the proxy of {@code bundle} and waits, within the context's deadline,
   * until it answers ready.
   *
   * @return the status once ready
   * @throws StageException when it does not start or does not get ready in time
   */
  ProxyStatus launch(Bundle bundle, Target target, StageContext context);

  /** The current status of {@code bundle}'s proxy on {@code target}. */
  ProxyStatus status(Bundle bundle, Target target, StageContext context);

  /**
   * Makes a running proxy use the token just delivered by {@link Transport#deliverToken}, without
   * restarting it. The default does nothing: it suits launchers whose proxy reads the token where
   * the transport put it. A launcher that installs copies of bundle files elsewhere (systemd)
   * re-installs the token here.
   */
  default void reloadToken(Bundle bundle, Target target, StageContext context) {}

  /** Stops and removes {@code bundle}'s proxy, and any previous one kept; absent is fine. */
  void remove(Bundle bundle, Target target, StageContext context);

  /**
   * Brings back the proxy that ran before a failed {@link #launch} of {@code bundle} (for example
   * the old container, kept stopped by the launch) and waits until it answers ready. The pipeline
   * calls it (in {@link Stage#ROLLBACK}) after {@link Transport#restorePrevious} has put the
   * previous bundle back into the config directory, so the proxy restarted reads the previous
   * bundle; {@code bundle} is the one whose launch failed (its launch spec names the proxy). The
   * default restores nothing.
   *
   * @return true when a previous proxy was brought back; false when there was none to bring back
   * @throws StageException when the previous proxy does not start or does not get ready in time
   */
  default boolean restorePrevious(Bundle bundle, Target target, StageContext context) {
    return false;
  }

  /**
   * Drops the previous proxy kept for {@link #restorePrevious}, once the proxy of {@code bundle} is
   * ready, or when the transport had no previous bundle to go with it. Nothing kept is fine. The
   * default does nothing.
   */
  default void discardPrevious(Bundle bundle, Target target, StageContext context) {}

  /**
   * The problems that would make {@link #launch} refuse {@code bundle} on {@code target}, found
   * without any I/O: a {@link LaunchSpec} of a kind this launcher cannot start, for example. The
   * pipeline asks before anything has a side effect (in {@link Stage#PREPARE}) and refuses the
   * workload when there is any, so that a bundle is never delivered to a VM where it cannot be
   * started. The default finds none.
   */
  default List<Problem> check(Bundle bundle, Target target) {
    return List.of();
  }

  /** What {@link #launch} would run, for dry runs. No side effect, no secret. */
  default List<String> describeLaunch(Bundle bundle, Target target) {
    return List.of("start the proxy of " + bundle.workload() + " on " + target.host());
  }

  /** What {@link #remove} would run, for dry runs. No side effect. */
  default List<String> describeRemoval(Bundle bundle, Target target) {
    return List.of("stop and remove the proxy of " + bundle.workload() + " on " + target.host());
  }

  /** A launcher that starts nothing: for pipelines that only deliver bundles. */
  static ProxyLauncher none() {
    return NoProxyLauncher.INSTANCE;
  }
}
