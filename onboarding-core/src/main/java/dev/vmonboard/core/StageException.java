package dev.vmonboard.core;

import java.time.Duration;
import java.util.Optional;

/**
 * What a stage implementation throws when it cannot do its job.
 *
 * <p>The pipeline adds the location (workload, stage, host) and reports an {@link
 * OnboardingException}. A {@linkplain #isTransient() transient} failure (a timeout, a refused
 * connection, an overloaded API server) is retried under the pipeline's retry policy; any other is
 * not; a transient failure may say how long to wait before the next attempt ({@link #retryAfter()},
 * e.g. an API server's {@code Retry-After}), which the pipeline honours. The message and hint must
 * never contain a secret.
 */
public class StageException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String hint;
  private final boolean transientFailure;
  private final Duration retryAfter;

  /**
   * A stage failure.
   *
   * @param message what went wrong
   * @param hint what the user can do, or null
   * @param transientFailure whether retrying may succeed
   * @param cause the underlying exception, or null
   */
  public StageException(String message, String hint, boolean transientFailure, Throwable cause) {
    this(message, hint, transientFailure, null, cause);
  }

  private StageException(
      String message, String hint, boolean transientFailure, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.hint = hint;
    this.transientFailure = transientFailure;
    this.retryAfter = retryAfter;
  }

  /** A failure that retrying cannot fix. */
  public static StageException permanent(String message, String hint) {
    return new StageException(message, hint, false, null);
  }

  /** A failure that retrying cannot fix, with its cause. */
  public static StageException permanent(String message, String hint, Throwable cause) {
    return new StageException(message, hint, false, cause);
  }

  /** A failure that may go away when tried again. */
  public static StageException transientFailure(String message, String hint, Throwable cause) {
    return new StageException(message, hint, true, cause);
  }

  /**
   * A failure that may go away when tried again, but not before {@code retryAfter} has passed (the
   * server said so, e.g. with {@code Retry-After}): the pipeline waits at least that long, within
   * the run's deadline, before the next attempt.
   */
  public static StageException transientFailure(
      String message, String hint, Duration retryAfter, Throwable cause) {
    if (retryAfter != null && retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative: " + retryAfter);
    }
    return new StageException(message, hint, true, retryAfter, cause);
  }

  /** What the user can do about it. */
  public Optional<String> hint() {
    return Optional.ofNullable(hint);
  }

  /** Whether retrying may succeed. */
  public boolean isTransient() {
    return transientFailure;
  }

  /** The least wait before the next attempt that the failing service asked for, if it did. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
