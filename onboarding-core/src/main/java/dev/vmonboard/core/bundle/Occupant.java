package dev.vmonboard.core.bundle;

import dev.vmonboard.core.StageException;
import dev.vmonboard.core.WorkloadRef;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The workload a single-workload destination (a directory or an archive) holds, so that a delivery
 * for a second workload is refused instead of silently replacing the first. Thread-safe.
 */
final class Occupant {

  private final AtomicReference<WorkloadRef> holder = new AtomicReference<>();

  /**
   * Takes the destination for {@code workload}, or confirms it holds it already.
   *
   * @throws StageException when it holds another workload
   */
  void claim(WorkloadRef workload, Object destination, String alternative) {
    WorkloadRef current = holder.updateAndGet(held -> held == null ? workload : held);
    if (!current.equals(workload)) {
      throw StageException.permanent(
          destination
              + " already holds the bundle of "
              + current
              + "; it cannot also hold "
              + workload,
          "use " + alternative + " for several workloads");
    }
  }

  /** Frees the destination once {@code workload}'s bundle is removed from it. */
  void release(WorkloadRef workload) {
    holder.updateAndGet(held -> workload.equals(held) ? null : held);
  }
}
