package dev.vmonboard.ssh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A sampling profiler for the benchmark's own threads: every few milliseconds, the stack of each
 * runnable thread whose name starts with a prefix, counted by the SDK's or JSch's innermost frame
 * and by the innermost frame of all. Coarse (samples are taken at safepoints), but it looks only at
 * the threads asked about, where JFR's sampler takes a few threads per period of all.
 */
final class ThreadSampler implements AutoCloseable {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final String prefix;
  private final Map<String, Integer> ours = new HashMap<>();
  private final Map<String, Integer> leaves = new HashMap<>();
  private final Thread thread;
  private volatile boolean stopped;
  private int samples;

  ThreadSampler(String prefix) {
    this.prefix = prefix;
    this.thread = new Thread(this::sample, "benchmark-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void sample() {
    while (!stopped) {
      for (ThreadInfo info : THREADS.dumpAllThreads(false, false, 64)) {
        if (info.getThreadName().startsWith(prefix)
            && info.getThreadState() == Thread.State.RUNNABLE
            && info.getStackTrace().length > 0) {
          StackTraceElement[] stack = info.getStackTrace();
          String leaf = stack[0].getClassName() + "." + stack[0].getMethodName();
          if (leaf.startsWith("sun.nio.ch.") || leaf.startsWith("java.net.SocketInputStream")) {
            continue; // blocked in a socket call
          }
          synchronized (this) {
            samples++;
            leaves.merge(leaf, 1, Integer::sum);
            for (StackTraceElement frame : stack) {
              if (frame.getClassName().startsWith("dev.vmonboard.")) {
                ours.merge(
                    frame.getClassName().replace("dev.vmonboard.", "")
                        + "."
                        + frame.getMethodName()
                        + ":"
                        + frame.getLineNumber(),
                    1,
                    Integer::sum);
                break;
              }
            }
          }
        }
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Override
  public synchronized void close() {
    stopped = true;
    System.out.printf(Locale.ROOT, "  profile of %s* threads: %d samples%n", prefix, samples);
    print("innermost SDK frame", ours);
    print("innermost frame", leaves);
  }

  private static void print(String what, Map<String, Integer> counts) {
    System.out.println("    by " + what + ":");
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(25)
        .forEach(e -> System.out.printf(Locale.ROOT, "      %5d  %s%n", e.getValue(), e.getKey()));
  }
}
