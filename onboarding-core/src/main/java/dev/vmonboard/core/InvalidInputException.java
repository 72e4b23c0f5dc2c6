package dev.vmonboard.core;

import java.util.List;

/**
 * Inputs refused before anything happened: a reference that does not parse, a workload without a
 * service account, a value that would corrupt a file or a shell command, a pipeline built without a
 * stage. Lists every problem at once, each naming its field.
 */
public class InvalidInputException extends OnboardingException {

  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  private InvalidInputException(
      WorkloadRef workload, Stage stage, String subject, List<Problem> problems) {
    super(
        workload,
        stage,
        null,
        "invalid " + subject + ": " + describe(problems),
        "nothing was changed; fix the values named above and run again",
        false,
        null);
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, each naming its field. */
  public List<Problem> problems() {
    return problems;
  }

  /**
   * An exception listing {@code problems} with {@code subject} (e.g. "workload", "pipeline").
   *
   * @param workload the workload concerned, or null
   */
  public static InvalidInputException of(
      WorkloadRef workload, String subject, List<Problem> problems) {
    return new InvalidInputException(workload, null, subject, problems);
  }

  /** {@link #of(WorkloadRef, String, List)} for a single problem. */
  public static InvalidInputException of(WorkloadRef workload, String subject, Problem problem) {
    return of(workload, subject, List.of(problem));
  }

  /** The same problems, located in {@code stage} of the run of {@code workload}. */
  public InvalidInputException locatedIn(WorkloadRef workload, Stage stage, String subject) {
    return new InvalidInputException(workload, stage, subject, problems);
  }

  /** Throws when {@code problems} is not empty. */
  public static void throwIfAny(WorkloadRef workload, String subject, List<Problem> problems) {
    if (!problems.isEmpty()) {
      throw of(workload, subject, problems);
    }
  }

  private static String describe(List<Problem> problems) {
    StringBuilder text = new StringBuilder();
    for (Problem problem : problems) {
      if (text.length() > 0) {
        text.append("; ");
      }
      text.append(problem);
    }
    return text.toString();
  }
}
