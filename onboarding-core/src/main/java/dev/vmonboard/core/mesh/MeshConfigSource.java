package dev.vmonboard.core.mesh;

/**
 * Where the pipeline takes the {@link MeshSnapshot} from: {@code KubernetesMeshDiscovery} reads a
 * cluster; {@link #fixed(MeshSnapshot)} serves one built by hand. The pipeline asks once per run
 * (once for a whole fleet). Implementations throw {@link dev.vmonboard.core.StageException}.
 */
@FunctionalInterface
public interface MeshConfigSource {

  /** The control plane's configuration as of now. */
  MeshSnapshot snapshot();

  /** A source that always answers {@code snapshot}. */
  static MeshConfigSource fixed(MeshSnapshot snapshot) {
    return () -> snapshot;
  }
}
