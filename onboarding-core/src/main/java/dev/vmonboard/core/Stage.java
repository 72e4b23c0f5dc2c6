package dev.vmonboard.core;

/**
 * The steps of one workload's onboarding or offboarding, in the order the pipeline runs them.
 *
 * <p>Each step belongs to one of the four replaceable stage components ({@link Registrar}, {@link
 * TokenIssuer}, {@link Transport}, {@link ProxyLauncher}) or to the pipeline itself.
 */
public enum Stage {
  /** Reads an existing registration ({@link Registrar#resolve}). */
  RESOLVE("Registrar", "resolve the workload"),
  /** Checks every input and builds the bundle from the mesh snapshot; no side effect. */
  PREPARE("pipeline", "prepare the bundle"),
  /**
   * Decides whether the VM is already up to date (same bundle, proxy ready, token fresh); only asks
   * the launcher for the proxy's status when the recorded bundle matches.
   */
  CHECK("pipeline", "check whether the VM is up to date"),
  /** Creates or updates the registration ({@link Registrar#register}). */
  REGISTER("Registrar", "register the workload"),
  /** Obtains the bootstrap token ({@link TokenIssuer#issue}). */
  ISSUE_TOKEN("TokenIssuer", "issue the bootstrap token"),
  /** Delivers the bundle to the VM ({@link Transport#deliver}). */
  DELIVER("Transport", "deliver the bundle"),
  /** Starts the proxy and waits until it is ready ({@link ProxyLauncher#launch}). */
  LAUNCH("ProxyLauncher", "start the proxy"),
  /**
   * Runs only when {@link #LAUNCH} failed after a delivery: puts the previous bundle back ({@link
   * Transport#restorePrevious}) and, when there was one, brings back the previous proxy ({@link
   * ProxyLauncher#restorePrevious}). The run still fails at {@link #LAUNCH}; its failure says what
   * the rollback did.
   */
  ROLLBACK("pipeline", "restore the previous bundle and proxy"),
  /** Replaces only the token (and the record) on the VM ({@link Transport#deliverToken}). */
  DELIVER_TOKEN("Transport", "deliver the refreshed token"),
  /** Records the bootstrap on the workload ({@link Registrar#recordBootstrap}). */
  RECORD("Registrar", "record the bootstrap"),
  /** Stops and removes the proxy ({@link ProxyLauncher#remove}). */
  STOP_PROXY("ProxyLauncher", "stop and remove the proxy"),
  /** Deletes the bundle from the VM ({@link Transport#remove}). */
  REMOVE_BUNDLE("Transport", "remove the bundle"),
  /** Deletes the registration ({@link Registrar#deregister}). */
  DEREGISTER("Registrar", "deregister the workload");

  private final String component;
  private final String description;

  Stage(String component, String description) {
    this.component = component;
    this.description = description;
  }

  /** The component that carries out this step: a stage interface's name, or {@code pipeline}. */
  public String component() {
    return component;
  }

  /** What the step does, in a few words, for messages. */
  public String description() {
    return description;
  }
}
