package dev.vmonboard.k8s.controller;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The keys waiting to be reconciled, in arrival order, each at most once; a key is never handed to
 * two workers at once. A key added while a worker holds it is handed out again once that worker is
 * {@link #done}, so no change is missed and none is worked on twice at the same time.
 */
final class WorkQueue {

  private final Set<String> waiting = new LinkedHashSet<>();
  private final Set<String> working = new HashSet<>();
  private final Set<String> again = new HashSet<>();
  private boolean shutDown;

  /** Queues {@code key} unless it is already waiting. */
  synchronized void add(String key) {
    if (shutDown) {
      return;
    }
    if (working.contains(key)) {
      again.add(key);
    } else if (waiting.add(key)) {
      notifyAll();
    }
  }

  /** The next key, once there is one; null after {@link #shutDown()}. */
  synchronized String take() throws InterruptedException {
    while (waiting.isEmpty() && !shutDown) {
      wait();
    }
    if (shutDown) {
      return null;
    }
    String key = waiting.iterator().next();
    waiting.remove(key);
    working.add(key);
    return key;
  }

  /** The worker holding {@code key} has finished with it. */
  synchronized void done(String key) {
    working.remove(key);
    if (again.remove(key) && !shutDown && waiting.add(key)) {
      notifyAll();
    }
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
