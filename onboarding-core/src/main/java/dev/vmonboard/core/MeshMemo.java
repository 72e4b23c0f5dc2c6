package dev.vmonboard.core;

import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.mesh.MeshSnapshot;

/**
 * The mesh snapshot of one pipeline call, read once and shared by every workload of a fleet.
 * Transient failures are retried under the pipeline's policy; the final outcome, success or
 * failure, is kept for the rest of the call, so a broken cluster fails a fleet fast.
 */
final class MeshMemo {

  private final MeshConfigSource source;
  private final RetryPolicy retryPolicy;
  private volatile MeshSnapshot snapshot;
  private RuntimeException failure;

  MeshMemo(MeshConfigSource source, RetryPolicy retryPolicy) {
    this.source = source;
    this.retryPolicy = retryPolicy;
  }

  MeshSnapshot get() {
    MeshSnapshot known = snapshot;
    return known != null ? known : load();
  }

  /** Reads the snapshot once for all callers; later callers wait for it, then share it. */
  private synchronized MeshSnapshot load() {
    if (snapshot != null) {
      return snapshot;
    }
    if (failure != null) {
      throw failure;
    }
    for (int attempt = 1; ; attempt++) {
      try {
        snapshot = source.snapshot();
        return snapshot;
      } catch (StageException e) {
        if (!e.isTransient() || attempt >= retryPolicy.maxAttempts()) {
          failure = e;
          throw e;
        }
        sleep(retryPolicy.backoffAfter(attempt, e).toMillis());
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StageException("cancelled while reading the mesh configuration", null, false, e);
    }
  }
}
