package dev.vmonboard.core.bundle;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.internal.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The problems found while building one bundle, and the checks that find them. A value that fails a
 * check is reported with the field it came from (an annotation, a label, an install value) and is
 * not used; the factory throws once, listing every problem, when it is done.
 */
final class Checks {

  /** Names a variable of an environment file may have. */
  static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final WorkloadRef workload;
  private final List<Problem> problems = new ArrayList<>();

  Checks(WorkloadRef workload) {
    this.workload = workload;
  }

  /** Records a problem with {@code field}. */
  void add(String field, String message) {
    problems.add(Problem.of(field, message));
  }

  /** Records every problem of {@code refused}. */
  void addAll(InvalidInputException refused) {
    problems.addAll(refused.problems());
  }

  /** Whether nothing has been found so far. */
  boolean none() {
    return problems.isEmpty();
  }

  /** Throws when anything was found, listing it all and naming the workload. */
  void throwIfAny() {
    throwIfAny("bundle input");
  }

  /** Throws when anything was found, listing it all as problems of {@code subject}. */
  void throwIfAny(String subject) {
    InvalidInputException.throwIfAny(workload, subject, problems);
  }

  /**
   * Whether {@code value} can be written as one line of an environment file ({@code sidecar.env},
   * {@code cluster.env}) and passed to a shell: no NUL, newline, carriage return or any other
   * character the SDK refuses everywhere ({@link Names#isForbidden(int)}: controls, format
   * characters, separators, lone surrogates, private-use and unassigned code points; a tab is
   * fine). Records a problem naming {@code field} otherwise.
   */
  boolean line(String field, String value) {
    String rest = value.replace('\t', ' ');
    int at = Names.firstForbidden(rest);
    if (at < 0) {
      return true;
    }
    if (Character.isSurrogate(rest.charAt(at))) {
      add(field, "contains an unpaired UTF-16 surrogate: not valid Unicode text");
    } else {
      add(
          field,
          "'"
              + Names.printable(value)
              + "' contains "
              + Names.describeForbidden(rest)
              + ", which would corrupt the proxy's environment file; remove it");
    }
    return false;
  }

  /**
   * {@link #line} and then {@code pattern}; records a problem saying what {@code expected} is when
   * the value does not match.
   */
  boolean matches(String field, String value, Pattern pattern, String expected) {
    if (!line(field, value)) {
      return false;
    }
    if (!pattern.matcher(value).matches()) {
      add(field, "'" + Names.printable(value) + "' is not " + expected);
      return false;
    }
    return true;
  }

  /** Whether {@code name} is a valid environment variable name; records a problem otherwise. */
  boolean envName(String field, String name) {
    if (!ENV_NAME.matcher(name).matches()) {
      add(
          field,
          "'"
              + Names.printable(name)
              + "' is not an environment variable name (letters, digits and '_', not starting"
              + " with a digit)");
      return false;
    }
    return true;
  }
}
