package dev.vmonboard.core;

import dev.vmonboard.core.mesh.MeshConfigSource;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Everything a pipeline was built with; shared, read-only, by all its runs. */
record PipelineSettings(
    Registrar registrar,
    TokenIssuer tokenIssuer,
    MeshConfigSource meshSource,
    BundleFactory bundleFactory,
    Transport transport,
    ProxyLauncher launcher,
    TargetDefaults targetDefaults,
    TokenRequest tokenRequest,
    Duration tokenRefreshMargin,
    boolean force,
    int concurrency,
    Duration defaultStageTimeout,
    Map<Stage, Duration> stageTimeouts,
    RetryPolicy retryPolicy,
    Optional<Duration> runTimeout,
    Listeners listeners,
    Clock clock) {

  Duration timeoutFor(Stage stage) {
    return stageTimeouts.getOrDefault(stage, defaultStageTimeout);
  }
}
