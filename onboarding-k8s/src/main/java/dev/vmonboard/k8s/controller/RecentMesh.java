package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The controller's mesh source: the cluster's Istio installation, read at most once per {@link
 * #MAX_AGE} however many entries are reconciled meanwhile (reading it costs six requests to the API
 * server, which a thousand entries onboarded together would otherwise make each). A failed read is
 * not kept: the next run reads again. Thread-safe.
 */
final class RecentMesh implements MeshConfigSource {

  /** How long a snapshot is used: a change to the installation reaches new runs within this. */
  static final Duration MAX_AGE = Duration.ofSeconds(5);

  private final MeshConfigSource source;
  private final LongSupplier nanos;
  private MeshSnapshot snapshot;
  private long readAt;

  RecentMesh(MeshConfigSource source, LongSupplier nanos) {
    this.source = source;
    this.nanos = nanos;
  }

  @Override
  public synchronized MeshSnapshot snapshot() {
    long now = nanos.getAsLong();
    if (snapshot == null || now - readAt >= MAX_AGE.toNanos()) {
      snapshot = source.snapshot();
      readAt = now;
    }
    return snapshot;
  }
}
