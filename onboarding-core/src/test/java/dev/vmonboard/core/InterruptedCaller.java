package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * A caller on its own thread that a test interrupts: it runs a pipeline call, and keeps what the
 * call returned and whether the interrupt was still set for the caller afterwards.
 */
final class InterruptedCaller<T> {

  private final Thread thread;
  private volatile T result;
  private volatile boolean interruptedAfter;

  private InterruptedCaller(Supplier<T> call) {
    thread =
        new Thread(
            () -> {
              result = call.get();
              interruptedAfter = Thread.currentThread().isInterrupted();
            });
  }

  /** Starts {@code call} on a new thread. */
  static <T> InterruptedCaller<T> start(Supplier<T> call) {
    InterruptedCaller<T> caller = new InterruptedCaller<>(call);
    caller.thread.start();
    return caller;
  }

  /** Interrupts the caller and waits for its call to return; fails if it does not in time. */
  T interruptAndAwait(Duration patience) throws InterruptedException {
    thread.interrupt();
    thread.join(patience.toMillis());
    assertThat(thread.isAlive()).as("the call returned after the interrupt").isFalse();
    return result;
  }

  /** Whether the interrupt was still set when the call returned (it must be, for the caller). */
  boolean interruptedAfter() {
    return interruptedAfter;
  }
}
