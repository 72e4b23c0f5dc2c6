package dev.vmonboard.core.testing;

import dev.vmonboard.core.StageException;
import dev.vmonboard.core.WorkloadRef;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A failure to inject into an in-memory stage: fail once, always, transiently a number of times,
 * answer slowly, hang until interrupted, or hang ignoring interrupts until released. Optionally
 * only for one workload.
 */
public final class Fault {

  private enum Kind {
    PERMANENT,
    TRANSIENT,
    SLOW,
    HANG,
    STUCK
  }

  private final Kind kind;
  private final AtomicInteger remaining;
  private final String message;
  private final Duration delay;
  private final WorkloadRef only;
  private final CountDownLatch released;

  private Fault(Kind kind, int times, String message, Duration delay, WorkloadRef only) {
    this(kind, times, message, delay, only, new CountDownLatch(1));
  }

  private Fault(
      Kind kind,
      int times,
      String message,
      Duration delay,
      WorkloadRef only,
      CountDownLatch released) {
    this.released = released;
    this.kind = kind;
    this.remaining = new AtomicInteger(times);
    this.message = message;
    this.delay = delay;
    this.only = only;
  }

  /** Fails every call with a permanent {@link StageException}. */
  public static Fault failAlways(String message) {
    return new Fault(Kind.PERMANENT, Integer.MAX_VALUE, message, Duration.ZERO, null);
  }

  /** Fails the next call with a permanent {@link StageException}, then behaves. */
  public static Fault failOnce(String message) {
    return new Fault(Kind.PERMANENT, 1, message, Duration.ZERO, null);
  }

  /** Fails the next {@code times} calls with a transient {@link StageException}, then behaves. */
  public static Fault failTransiently(int times, String message) {
    return new Fault(Kind.TRANSIENT, times, message, Duration.ZERO, null);
  }

  /**
   * Fails the next {@code times} calls with a transient {@link StageException} that asks for {@code
   * retryAfter} before the next attempt (as a throttling server's {@code Retry-After} does), then
   * behaves.
   */
  public static Fault failTransiently(int times, String message, Duration retryAfter) {
    return new Fault(Kind.TRANSIENT, times, message, retryAfter, null);
  }

  /** Delays every call by {@code delay}, then behaves. */
  public static Fault slow(Duration delay) {
    return new Fault(Kind.SLOW, Integer.MAX_VALUE, "slow", delay, null);
  }

  /** Blocks every call until the thread is interrupted (a hung remote command). */
  public static Fault hang() {
    return new Fault(Kind.HANG, Integer.MAX_VALUE, "hang", Duration.ZERO, null);
  }

  /**
   * Blocks every call, ignoring interrupts, until {@link #release()} (a call stuck in I/O that no
   * interrupt reaches); then the call fails. Release it when the test ends.
   */
  public static Fault unresponsive() {
    return new Fault(Kind.STUCK, Integer.MAX_VALUE, "unresponsive", Duration.ZERO, null);
  }

  /** Lets the calls blocked by {@link #unresponsive()} go; they fail, and so do later calls. */
  public void release() {
    released.countDown();
  }

  /** The same fault, limited to calls for {@code workload}. */
  public Fault onlyFor(WorkloadRef workload) {
    return new Fault(kind, remaining.get(), message, delay, workload, released);
  }

  /** Whether this fault still applies to a call for {@code workload}. */
  boolean appliesTo(Optional<WorkloadRef> workload) {
    return remaining.get() > 0 && (only == null || workload.map(only::equals).orElse(false));
  }

  /** Acts on one call: throws, sleeps or hangs. */
  void strike(String operation) {
    if (remaining.getAndDecrement() <= 0) {
      return;
    }
    switch (kind) {
      case PERMANENT ->
          throw StageException.permanent(operation + ": " + message, "injected by the test kit");
      case TRANSIENT ->
          throw StageException.transientFailure(
              operation + ": " + message,
              "injected by the test kit",
              delay.isZero() ? null : delay,
              null);
      case SLOW -> sleep(delay);
      case HANG -> sleep(Duration.ofDays(1));
      case STUCK -> {
        awaitIgnoringInterrupts(released);
        throw StageException.permanent(operation + ": " + message, "injected by the test kit");
      }
    }
  }

  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StageException.transientFailure("interrupted", null, e);
    }
  }

  @Override
  public String toString() {
    return "Fault{" + kind + ", " + message + (only == null ? "" : ", only " + only) + "}";
  }
}
