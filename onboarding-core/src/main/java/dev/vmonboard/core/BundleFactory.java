package dev.vmonboard.core;

import dev.vmonboard.core.mesh.MeshSnapshot;

/**
 * Builds a workload's {@link Bundle} (without its token) from the workload and the mesh snapshot.
 * Pure: no I/O, same inputs give the same bundle. The container style and the systemd style are the
 * SDK's two implementations.
 */
@FunctionalInterface
public interface BundleFactory {

  /**
   * The bundle of {@code workload} in {@code mesh}.
   *
   * @throws InvalidInputException when a value would produce a bundle the proxy cannot use, naming
   *     the field
   */
  Bundle build(Workload workload, MeshSnapshot mesh);
}
