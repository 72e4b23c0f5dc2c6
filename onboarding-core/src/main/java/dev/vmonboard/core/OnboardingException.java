package dev.vmonboard.core;

import java.util.Optional;

/**
 * A failure of onboarding or offboarding, located: which workload, which stage, which host, and
 * what the user can do about it.
 *
 * <p>The message reads {@code ns/name: stage 'deliver the bundle' (Transport) failed on host
 * 10.0.0.4: <cause>. <hint>}. It never contains a secret. Results carry these instead of throwing
 * them; {@link OnboardingResult#orThrow()} throws them.
 */
public class OnboardingException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient WorkloadRef workload;
  private final Stage stage;
  private final String host;
  private final String problem;
  private final String hint;
  private final boolean transientFailure;

  /**
   * A located failure.
   *
   * @param workload the workload concerned, or null when none is (yet) known
   * @param stage the stage that failed, or null when the failure precedes every stage
   * @param host the VM's host, or null when the stage does not reach a VM
   * @param problem what went wrong, without the location
   * @param hint what the user can do, or null
   * @param transientFailure whether trying again may succeed
   * @param cause the underlying exception, or null
   */
  public OnboardingException(
      WorkloadRef workload,
      Stage stage,
      String host,
      String problem,
      String hint,
      boolean transientFailure,
      Throwable cause) {
    super(compose(workload, stage, host, problem, hint), cause);
    this.workload = workload;
    this.stage = stage;
    this.host = host;
    this.problem = problem;
    this.hint = hint;
    this.transientFailure = transientFailure;
  }

  /** The workload concerned, when known. */
  public Optional<WorkloadRef> workload() {
    return Optional.ofNullable(workload);
  }

  /** The stage that failed, when the failure happened inside one. */
  public Optional<Stage> stage() {
    return Optional.ofNullable(stage);
  }

  /** The host of the VM involved, when the stage reaches a VM. */
  public Optional<String> host() {
    return Optional.ofNullable(host);
  }

  /** What went wrong, without the location prefix. */
  public String problem() {
    return problem;
  }

  /** What the user can do about it, when something can be said. */
  public Optional<String> hint() {
    return Optional.ofNullable(hint);
  }

  /** Whether the failure may go away on its own (network, overloaded API server, ...). */
  public boolean isTransient() {
    return transientFailure;
  }

  private static String compose(
      WorkloadRef workload, Stage stage, String host, String problem, String hint) {
    StringBuilder message = new StringBuilder();
    if (workload != null) {
      message.append(workload).append(": ");
    }
    if (stage != null) {
      message
          .append("stage '")
          .append(stage.description())
          .append("' (")
          .append(stage.component())
          .append(") failed");
      if (host != null) {
        message.append(" on host ").append(host);
      }
      message.append(": ");
    } else if (host != null) {
      message.append("host ").append(host).append(": ");
    }
    message.append(problem);
    if (hint != null && !hint.isBlank()) {
      message.append(problem.endsWith(".") ? " " : ". ").append(hint);
    }
    return message.toString();
  }
}
