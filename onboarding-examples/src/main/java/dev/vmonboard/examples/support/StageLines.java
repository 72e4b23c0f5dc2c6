package dev.vmonboard.examples.support;

import dev.vmonboard.core.OnboardingEvent;
import dev.vmonboard.core.OnboardingListener;
import dev.vmonboard.core.Stage;
import java.io.PrintStream;
import java.time.Duration;

/**
 * A listener that prints one line per finished stage attempt, as it happens: {@code ok}, {@code
 * retry} or {@code FAILED}, the stage, its component and how long it took. Thread-safe.
 */
public final class StageLines implements OnboardingListener {

  private final PrintStream out;
  private final String indent;
  private final boolean withWorkload;

  private StageLines(PrintStream out, String indent, boolean withWorkload) {
    this.out = out;
    this.indent = indent;
    this.withWorkload = withWorkload;
  }

  /** Lines for one VM at a time: the workload is not repeated. */
  public static StageLines of(PrintStream out, String indent) {
    return new StageLines(out, indent, false);
  }

  /** Lines that start with the workload, for runs of several VMs at once. */
  public static StageLines withWorkload(PrintStream out, String indent) {
    return new StageLines(out, indent, true);
  }

  @Override
  public void onEvent(OnboardingEvent event) {
    if (event instanceof OnboardingEvent.StageSucceeded done) {
      print(done.workload().toString(), "ok", done.stage(), done.attempt(), done.duration(), null);
    } else if (event instanceof OnboardingEvent.StageFailed failed) {
      print(
          failed.workload().toString(),
          failed.willRetry() ? "retry" : "FAILED",
          failed.stage(),
          failed.attempt(),
          failed.duration(),
          failed.cause().problem());
    }
  }

  private void print(
      String workload, String word, Stage stage, int attempt, Duration took, String problem) {
    String line =
        String.format(
            "%s%s%-6s %-44s %6s%s%s",
            indent,
            withWorkload ? workload + "  " : "",
            word,
            stage.description() + " (" + stage.component() + ")",
            Texts.millis(took),
            attempt > 1 ? "  attempt " + attempt : "",
            problem == null ? "" : "  " + problem);
    synchronized (out) {
      out.println(line);
    }
  }
}
