package dev.vmonboard.examples.demo;

import dev.vmonboard.examples.support.Texts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The demo's steps and checks as they pass or fail, for the summary. Not thread-safe. */
final class Steps {

  private record Outcome(String subject, String name, boolean passed, String note, Duration took) {}

  /** A check that throws {@link IllegalStateException} with what is wrong. */
  @FunctionalInterface
  interface Check {
    void run() throws Exception;
  }

  private final List<Outcome> outcomes = new ArrayList<>();

  /**
   * Runs {@code step}, then {@code check} on its result; records the step.
   *
   * @return the result, or null when the step threw
   */
  <T> T run(String subject, String name, Supplier<T> step, Consumer<T> check) {
    long started = System.nanoTime();
    T result;
    try {
      result = step.get();
    } catch (RuntimeException e) {
      fail(subject, name, e.toString(), since(started));
      return null;
    }
    try {
      check.accept(result);
      pass(subject, name, "", since(started));
    } catch (RuntimeException e) {
      fail(subject, name, e.getMessage(), since(started));
    }
    return result;
  }

  /** Runs {@code check} and records it. */
  void check(String subject, String name, Check check) {
    long started = System.nanoTime();
    try {
      check.run();
      pass(subject, name, "", since(started));
    } catch (Exception e) {
      fail(subject, name, e.getMessage(), since(started));
    }
  }

  void pass(String subject, String name, String note, Duration took) {
    outcomes.add(new Outcome(subject, name, true, note, took));
  }

  void fail(String subject, String name, String note, Duration took) {
    outcomes.add(new Outcome(subject, name, false, note, took));
  }

  boolean allPassed() {
    return !outcomes.isEmpty() && outcomes.stream().allMatch(Outcome::passed);
  }

  /** The names of the failed steps. */
  List<String> failures() {
    return outcomes.stream()
        .filter(outcome -> !outcome.passed())
        .map(outcome -> (outcome.subject() + " " + outcome.name()).strip())
        .toList();
  }

  /** The summary table: VM, step, result, time, note. */
  List<List<String>> rows() {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("VM", "step", "result", "time", ""));
    for (Outcome outcome : outcomes) {
      rows.add(
          List.of(
              outcome.subject(),
              outcome.name(),
              outcome.passed() ? "ok" : "FAILED",
              outcome.took().toMillis() == 0 ? "" : Texts.millis(outcome.took()),
              outcome.note() == null ? "" : outcome.note()));
    }
    return rows;
  }

  private static Duration since(long started) {
    return Duration.ofNanos(System.nanoTime() - started);
  }
}
