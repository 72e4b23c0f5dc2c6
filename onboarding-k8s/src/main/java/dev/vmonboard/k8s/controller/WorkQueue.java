package dev.vmonboard.k8s.controller;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The keys waiting to be reconciled, in arrival order, each at most once; a key is never handed to
 * two workers at once. A key added while a worker holds it is handed out again once that worker is
 * {@link #done}, so no change is missed and none is worked on twice at the same time.
 */
final class WorkQueue {

  private final Set<String> waiting = new LinkedHashSet<>();
  private final Map<String, Thread> working = new HashMap<>();
  private final Set<String> again = new HashSet<>();
  private boolean shutDown;

  /** Queues {@code key} unless it is already waiting. */
  synchronized void add(String key) {
    if (shutDown) {
      return;
    }
    if (working.containsKey(key)) {
      again.add(key);
    } else if (waiting.add(key)) {
      notifyAll();
    }
  }

  /**
   * The next key, once there is one, held by the calling thread; null after {@link #shutDown()}.
   */
  synchronized String take() throws InterruptedException {
    while (waiting.isEmpty() && !shutDown) {
      wait();
    }
    if (shutDown) {
      return null;
    }
    String key = waiting.iterator().next();
    waiting.remove(key);
    working.put(key, Thread.currentThread());
    return key;
  }

  /**
   * The worker holding {@code key} has finished with it. A worker clears its interrupt flag after
   * this call: an interrupt meant for {@code key} ({@link #drop}) happens before it, never after.
   */
  synchronized void done(String key) {
    working.remove(key);
    if (again.remove(key) && !shutDown && waiting.add(key)) {
      notifyAll();
    }
  }

  /**
   * Forgets the waiting keys that match {@code keys}; with {@code interrupt}, also interrupts the
   * workers holding matching keys (they stay held until their workers are {@link #done}).
   */
  synchronized void drop(Predicate<String> keys, boolean interrupt) {
    waiting.removeIf(keys);
    again.removeIf(keys);
    if (interrupt) {
      working.forEach(
          (key, thread) -> {
            if (keys.test(key)) {
              thread.interrupt();
            }
          });
    }
  }

  /** Whether a worker holds a key that matches {@code keys}. */
  synchronized boolean holds(Predicate<String> keys) {
    return working.keySet().stream().anyMatch(keys);
  }

  /** Whether nothing is waiting or being worked on. */
  synchronized boolean isIdle() {
    return waiting.isEmpty() && working.isEmpty();
  }

  /** Hands out nothing more; {@link #take()} returns null from now on. */
  synchronized void shutDown() {
    shutDown = true;
    waiting.clear();
    again.clear();
    notifyAll();
  }
}
