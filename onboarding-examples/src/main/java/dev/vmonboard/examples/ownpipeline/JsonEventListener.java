package dev.vmonboard.examples.ownpipeline;

import dev.vmonboard.core.OnboardingEvent;
import dev.vmonboard.core.OnboardingListener;
import dev.vmonboard.core.OnboardingResult;
import java.io.PrintStream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A listener that prints every event as one line of JSON (JSON Lines), for a log pipeline or {@code
 * jq}:
 *
 * <pre>{@code
 * {"at":"2026-01-01T10:00:00.123Z","event":"stage-succeeded","workload":"ns/backend-vm",
 *  "stage":"DELIVER","attempt":1,"durationMs":14}
 * }</pre>
 *
 * Events carry no secret, so neither does the output. Thread-safe: lines never interleave.
 */
public final class JsonEventListener implements OnboardingListener {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final PrintStream out;

  public JsonEventListener(PrintStream out) {
    this.out = out;
  }

  @Override
  public void onEvent(OnboardingEvent event) {
    ObjectNode json = JSON.createObjectNode();
    json.put("at", event.at().toString());
    if (event instanceof OnboardingEvent.StageStarted started) {
      json.put("event", "stage-started");
      json.put("workload", started.workload().toString());
      json.put("stage", started.stage().name());
      json.put("attempt", started.attempt());
    } else if (event instanceof OnboardingEvent.StageProgress progress) {
      json.put("event", "stage-progress");
      json.put("workload", progress.workload().toString());
      json.put("stage", progress.stage().name());
      json.put("message", progress.message());
    } else if (event instanceof OnboardingEvent.StageSucceeded succeeded) {
      json.put("event", "stage-succeeded");
      json.put("workload", succeeded.workload().toString());
      json.put("stage", succeeded.stage().name());
      json.put("attempt", succeeded.attempt());
      json.put("durationMs", succeeded.duration().toMillis());
    } else if (event instanceof OnboardingEvent.StageFailed failed) {
      json.put("event", "stage-failed");
      json.put("workload", failed.workload().toString());
      json.put("stage", failed.stage().name());
      json.put("attempt", failed.attempt());
      json.put("durationMs", failed.duration().toMillis());
      json.put("willRetry", failed.willRetry());
      json.put("transient", failed.cause().isTransient());
      json.put("problem", failed.cause().problem());
      failed.cause().hint().ifPresent(hint -> json.put("hint", hint));
    } else if (event instanceof OnboardingEvent.WorkloadFinished finished) {
      OnboardingResult result = finished.result();
      json.put("event", "workload-finished");
      json.put("workload", result.workload().toString());
      json.put("operation", result.operation().name());
      json.put("outcome", result.outcome().name());
      json.put("durationMs", result.duration().toMillis());
      result.tokenExpiresAt().ifPresent(at -> json.put("tokenExpiresAt", at.toString()));
      result.failure().ifPresent(failure -> json.put("error", failure.getMessage()));
    } else if (event instanceof OnboardingEvent.FleetProgress progress) {
      json.put("event", "fleet-progress");
      json.put("done", progress.done());
      json.put("failed", progress.failed());
      json.put("total", progress.total());
    }
    String line = JSON.writeValueAsString(json);
    synchronized (out) {
      out.println(line);
    }
  }
}
