package dev.vmonboard.examples.cli;

import dev.vmonboard.core.OnboardingEvent;
import dev.vmonboard.core.OnboardingListener;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.examples.support.Texts;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The command line's live progress, on standard error: a line when a VM starts and one when it ends
 * ({@code [ 3/10] ok ns/name 812 ms}), every retry, and with {@code stageLines} every stage as it
 * finishes. Thread-safe: fleet runs call it from several threads.
 */
final class FleetProgress implements OnboardingListener {

  private final PrintStream err;
  private final int total;
  private final boolean stageLines;
  private final int width;
  private final Set<WorkloadRef> started = ConcurrentHashMap.newKeySet();
  private int done;

  FleetProgress(PrintStream err, int total, boolean stageLines) {
    this.err = err;
    this.total = total;
    this.stageLines = stageLines;
    this.width = Integer.toString(total).length();
  }

  @Override
  public void onEvent(OnboardingEvent event) {
    if (event instanceof OnboardingEvent.StageStarted start && started.add(start.workload())) {
      print(" ".repeat(2 * width + 3) + " start   " + start.workload());
    } else if (event instanceof OnboardingEvent.StageSucceeded ok && stageLines) {
      printStage(ok.workload(), ok.stage(), ": ok in " + Texts.millis(ok.duration()));
    } else if (event instanceof OnboardingEvent.StageFailed failed
        && (failed.willRetry() || stageLines)) {
      printStage(
          failed.workload(),
          failed.stage(),
          (failed.willRetry() ? ": attempt " + failed.attempt() + " failed, retrying: " : ": ")
              + failed.cause().problem().replace('\n', ' '));
    } else if (event instanceof OnboardingEvent.WorkloadFinished finished) {
      OnboardingResult result = finished.result();
      synchronized (this) {
        done++;
        print(
            counter(Integer.toString(done))
                + " "
                + (result.isSuccess() ? "ok     " : "FAILED ")
                + " "
                + result.workload()
                + "  "
                + result.outcome()
                + " in "
                + Texts.millis(result.duration()));
      }
    }
  }

  private String counter(String count) {
    return "[" + " ".repeat(Math.max(0, width - count.length())) + count + "/" + total + "]";
  }

  /** A line about one stage of {@code workload}, indented under the counter column. */
  private void printStage(WorkloadRef workload, Stage stage, String what) {
    print("          " + " ".repeat(2 * width) + workload + "  " + stage.description() + what);
  }

  private void print(String line) {
    synchronized (err) {
      err.println(line);
    }
  }
}
