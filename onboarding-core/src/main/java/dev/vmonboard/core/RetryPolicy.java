package dev.vmonboard.core;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often and how patiently the pipeline retries a stage whose failure is {@linkplain
 * StageException#isTransient() transient}: exponential backoff with jitter, capped, or longer when
 * the failing service asked for a longer wait ({@link StageException#retryAfter()}, e.g. an API
 * server's {@code Retry-After}). Permanent failures and timeouts are never retried.
 *
 * @param maxAttempts attempts in all, at least 1 (1 = no retry)
 * @param initialBackoff wait before the first retry
 * @param maxBackoff the longest wait between attempts
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {

  /** Checks the values. */
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, not " + maxAttempts);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must be non-negative and maxBackoff >= initial");
    }
  }

  /** Three attempts, 200 ms then 400 ms apart (with jitter), at most 5 s. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(3, Duration.ofMillis(200), Duration.ofSeconds(5));
  }

  /** One attempt only. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
  }

  /** {@code maxAttempts} attempts with exponential backoff from {@code initialBackoff}. */
  public static RetryPolicy exponential(int maxAttempts, Duration initialBackoff) {
    return new RetryPolicy(maxAttempts, initialBackoff, initialBackoff.multipliedBy(32));
  }

  /** The wait before attempt {@code attempt + 1}: doubling, capped, with up to 20% jitter. */
  public Duration backoffAfter(int attempt) {
    long base = initialBackoff.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, maxBackoff.toMillis());
    long jitter = capped == 0 ? 0 : ThreadLocalRandom.current().nextLong(capped / 5 + 1);
    return Duration.ofMillis(capped - jitter);
  }

  /**
   * The wait before attempt {@code attempt + 1} after {@code failure}: {@link #backoffAfter(int)},
   * or the failure's {@link StageException#retryAfter()} when that is longer.
   */
  public Duration backoffAfter(int attempt, Throwable failure) {
    Duration backoff = backoffAfter(attempt);
    if (failure instanceof StageException stageError && stageError.retryAfter().isPresent()) {
      Duration asked = stageError.retryAfter().get();
      return asked.compareTo(backoff) > 0 ? asked : backoff;
    }
    return backoff;
  }
}
