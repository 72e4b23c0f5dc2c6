package dev.vmonboard.examples.cli;

/**
 * The command line or what it names is wrong: a conflict between options, an unreadable file, an
 * unknown WorkloadEntry, namespace or kube context. Exit code 2; nothing was changed.
 */
final class UsageError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  UsageError(String message) {
    super(message);
  }

  UsageError(String message, Throwable cause) {
    super(message, cause);
  }
}
