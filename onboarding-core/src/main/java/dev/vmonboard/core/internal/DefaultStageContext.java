package dev.vmonboard.core.internal;

import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.WorkloadRef;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The pipeline's {@link StageContext}: one per stage attempt, resources shared per run. */
public class DefaultStageContext implements StageContext {

  private final WorkloadRef workload;
  private final Stage stage;
  private final Instant deadline;
  private final SharedResources resources;
  private final Consumer<String> progress;

  /** A context whose progress messages go to {@code progress}. */
  public DefaultStageContext(
      WorkloadRef workload,
      Stage stage,
      Instant deadline,
      SharedResources resources,
      Consumer<String> progress) {
    this.workload = workload;
    this.stage = stage;
    this.deadline = deadline;
    this.resources = resources;
    this.progress = progress;
  }

  @Override
  public WorkloadRef workload() {
    return workload;
  }

  @Override
  public Stage stage() {
    return stage;
  }

  @Override
  public Instant deadline() {
    return deadline;
  }

  @Override
  public <T extends AutoCloseable> T shared(Class<T> type, Supplier<? extends T> opener) {
    return resources.get(type, opener);
  }

  @Override
  public void progress(String message) {
    progress.accept(message);
  }

  /** {@link StageContext#standalone}: owns its resources and drops progress messages. */
  public static final class StandaloneContext extends DefaultStageContext
      implements StageContext.Standalone {
    private final SharedResources owned;

    /** A context owning {@code resources}. */
    public StandaloneContext(
        WorkloadRef workload, Stage stage, Instant deadline, SharedResources resources) {
      super(workload, stage, deadline, resources, message -> {});
      this.owned = resources;
    }

    @Override
    public void close() {
      owned.close();
    }
  }
}
