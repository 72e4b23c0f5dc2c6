package dev.vmonboard.core;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends stage attempts that outlive their deadline. A stage runs on its run's own thread; the
 * watchdog, one daemon thread for the whole JVM, interrupts that thread at the attempt's deadline
 * (or when the run is cancelled) and, when the stage still has not returned {@link #GRACE} later (a
 * call that ignores interrupts), abandons the attempt: the run is reported as ended from another
 * thread and its own thread, whenever the call returns, does nothing more.
 *
 * <p>Watching an attempt costs no thread hand-over: the run thread registers the attempt in a
 * concurrent set and the watchdog sleeps until the earliest deadline, woken only when a new attempt
 * must end before that.
 */
final class StageWatchdog {

  private static final Logger LOG = LoggerFactory.getLogger(StageWatchdog.class);

  /** How long a stage has to answer the interrupt before its attempt is abandoned. */
  static final long GRACE = TimeUnit.MILLISECONDS.toNanos(500);

  private static final StageWatchdog INSTANCE = new StageWatchdog();

  /**
   * Where abandoned attempts are reported: never on the watchdog's thread (listeners may block).
   */
  private static final Executor REPORTERS =
      Executors.newCachedThreadPool(StageRunner.daemonThreads("vmonboard-abandoned-"));

  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final Thread thread;

  /** When the watchdog will look next, {@link System#nanoTime()} based. */
  private volatile long wakeAt = Long.MAX_VALUE;

  private StageWatchdog() {
    thread = new Thread(this::watch, "vmonboard-watchdog");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Starts watching an attempt that runs on the current thread and must end by {@code
   * deadlineNanos}; {@code abandon} reports the attempt as ended if it has to be abandoned.
   */
  static Watch start(long deadlineNanos, Runnable abandon) {
    Watch watch = new Watch(Thread.currentThread(), deadlineNanos, abandon);
    INSTANCE.watches.add(watch);
    INSTANCE.wakeBy(deadlineNanos);
    return watch;
  }

  private void wakeBy(long nanos) {
    if (nanos - wakeAt < 0) {
      LockSupport.unpark(thread);
    }
  }

  private void watch() {
    while (true) {
      long now = System.nanoTime();
      long next = now + TimeUnit.SECONDS.toNanos(1);
      for (Watch watch : watches) {
        long due;
        try {
          due = watch.check(now);
        } catch (RuntimeException e) {
          // Never let one attempt stop the watch over all the others.
          LOG.error("cannot end a stage attempt at its deadline; it is no longer watched", e);
          due = Watch.DONE;
        }
        if (due == Watch.DONE) {
          watches.remove(watch);
        } else if (due - next < 0) {
          next = due;
        }
      }
      wakeAt = next;
      // An attempt registered during the scan may be due sooner: it saw the old wakeAt, so look
      // again before sleeping (its registration and this write are both volatile, so one of the
      // two sides sees the other).
      if (!dueBefore(next)) {
        LockSupport.parkNanos(this, next - now);
      }
    }
  }

  private boolean dueBefore(long next) {
    for (Watch watch : watches) {
      if (watch.dueAt() - next < 0) {
        return true;
      }
    }
    return false;
  }

  /** One watched attempt. Its state changes under its lock, by its run thread or the watchdog. */
  static final class Watch {

    static final long DONE = Long.MIN_VALUE;

    private enum State {
      RUNNING,
      INTERRUPTED,
      ENDED,
      ABANDONED
    }

    private final Thread runner;
    private final long deadline;
    private final Runnable abandon;
    private State state = State.RUNNING;
    private volatile long abandonAt = Long.MAX_VALUE;

    private Watch(Thread runner, long deadline, Runnable abandon) {
      this.runner = runner;
      this.deadline = deadline;
      this.abandon = abandon;
    }

    /** When the watchdog must look at this attempt next. */
    long dueAt() {
      long abandonBy = abandonAt;
      return abandonBy == Long.MAX_VALUE ? deadline : abandonBy;
    }

    /** Acts on the attempt at {@code now}: returns when to look next, or {@link #DONE}. */
    private synchronized long check(long now) {
      switch (state) {
        case RUNNING -> {
          if (now - deadline < 0) {
            return deadline;
          }
          interrupt(now);
          return abandonAt;
        }
        case INTERRUPTED -> {
          if (now - abandonAt < 0) {
            return abandonAt;
          }
          state = State.ABANDONED;
          REPORTERS.execute(abandon);
          return DONE;
        }
        default -> {
          return DONE;
        }
      }
    }

    private void interrupt(long now) {
      state = State.INTERRUPTED;
      abandonAt = now + GRACE;
      runner.interrupt();
    }

    /**
     * Interrupts the attempt now (its run was cancelled); it is abandoned if it does not return
     * within the grace period.
     */
    void cancel() {
      synchronized (this) {
        if (state != State.RUNNING) {
          return;
        }
        interrupt(System.nanoTime());
      }
      INSTANCE.wakeBy(abandonAt);
    }

    /**
     * Ends the watch, on the run thread, once the stage has returned.
     *
     * @return false when the attempt ended in time; true when it was interrupted (its deadline
     *     passed or its run was cancelled), with the interrupt delivered before this returns
     * @throws Abandoned when the attempt was abandoned: the run has been reported as ended
     */
    boolean end() {
      State ended;
      synchronized (this) {
        ended = state;
        if (state == State.RUNNING || state == State.INTERRUPTED) {
          state = State.ENDED;
        }
      }
      INSTANCE.watches.remove(this);
      if (ended == State.ABANDONED) {
        throw new Abandoned();
      }
      return ended == State.INTERRUPTED;
    }
  }

  /**
   * Thrown on a run thread whose attempt was abandoned, once its call returns: the run ends there,
   * silently, since its result has already been reported.
   */
  static final class Abandoned extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Abandoned() {
      super("the attempt was abandoned", null, false, false);
    }
  }
}
