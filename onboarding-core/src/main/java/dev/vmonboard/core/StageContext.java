package dev.vmonboard.core;

import dev.vmonboard.core.internal.DefaultStageContext;
import dev.vmonboard.core.internal.SharedResources;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * What a stage knows about the run it is part of: the workload, the stage, its deadline, and
 * resources shared by all stages of this workload's run.
 *
 * <p>{@link #shared} is how a transport and a launcher use one SSH connection per VM: the first
 * caller opens it, later stages of the same run get the same instance, and the pipeline closes it
 * when the workload's run ends, whatever happened.
 */
public interface StageContext {

  /** The workload being onboarded or offboarded. */
  WorkloadRef workload();

  /** The stage running now. */
  Stage stage();

  /** When the stage must have finished; I/O should not wait past it. */
  Instant deadline();

  /** Time left until {@link #deadline()}, never negative. */
  default Duration remaining() {
    Duration left = Duration.between(Instant.now(), deadline());
    return left.isNegative() ? Duration.ZERO : left;
  }

  /**
   * The resource of {@code type} shared by this run's stages, opened by {@code opener} on first use
   * and closed by the pipeline at the end of the run.
   */
  <T extends AutoCloseable> T shared(Class<T> type, Supplier<? extends T> opener);

  /** Reports progress inside the stage (e.g. "waiting for readiness"), delivered as an event. */
  void progress(String message);

  /**
   * A context for calling a stage outside a pipeline (tests, tools). Closing it closes the shared
   * resources.
   */
  static Standalone standalone(WorkloadRef workload, Stage stage, Duration timeout) {
    return new DefaultStageContext.StandaloneContext(
        workload, stage, Instant.now().plus(timeout), new SharedResources());
  }

  /** A {@link StageContext} its creator closes. */
  interface Standalone extends StageContext, AutoCloseable {
    /** Closes every shared resource opened through this context. */
    @Override
    void close();
  }
}
