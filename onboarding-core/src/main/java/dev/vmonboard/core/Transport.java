package dev.vmonboard.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Stage 3: delivers a bundle to where the proxy will read it, and removes it again.
 *
 * <p>Defaults: {@code SshTransport} ({@code onboarding-ssh}) to a VM; {@code
 * LocalDirectoryTransport} and {@code ArchiveTransport} (this module) for media carried by other
 * means. A delivery replaces the previous bundle as a whole or not at all: when it fails, the
 * target keeps its previous configuration. A transport may also keep the bundle a delivery replaced
 * until the pipeline knows the new one works ({@link #restorePrevious}, {@link #discardPrevious}):
 * {@code SshTransport} does, the others keep no copy. Implementations must be thread-safe.
 */
public interface Transport {

  /**
   * Whether a delivery needs the VM's host. Transports that write bundles on this machine (a local
   * directory, an archive) need none, so that a WorkloadGroup, which has no address, gets its
   * bundle there; the default, for transports that reach the VM, says yes.
   */
  default boolean needsHost() {
    return true;
  }

  /** Puts {@code bundle} (with its token) in {@code target}'s config directory, atomically. */
  void deliver(Bundle bundle, Target target, StageContext context);

  /**
   * Replaces only the token file and the bootstrap record of an already delivered bundle,
   * atomically, so that a running proxy reads the new token without a restart. The default delivers
   * the whole bundle.
   */
  default void deliverToken(Bundle bundle, Target target, StageContext context) {
    deliver(bundle, target, context);
  }

  /** Deletes the bundle from {@code target}, and any previous copy kept; nothing there is fine. */
  void remove(Target target, StageContext context);

  /**
   * Puts back, atomically, the bundle that the last {@link #deliver} to {@code target} replaced:
   * the pipeline calls it (in {@link Stage#ROLLBACK}) when the proxy of a newly delivered bundle
   * does not start, before {@link ProxyLauncher#restorePrevious}. A transport that supports it
   * keeps the replaced bundle from {@link #deliver} until {@link #discardPrevious}, the next
   * delivery or {@link #remove}; the bundle put back is then gone from the kept copy, so a second
   * call finds nothing. The default keeps nothing.
   *
   * @return true when a previous bundle was put back; false when there was none (a first delivery,
   *     a copy already restored or discarded, or a transport that keeps no previous copy), in which
   *     case {@code target} is left as it is
   */
  default boolean restorePrevious(Target target, StageContext context) {
    return false;
  }

  /**
   * Drops the previous bundle kept for {@link #restorePrevious}, once the new one is known good
   * (its proxy answered ready). Nothing kept is fine. The default does nothing.
   */
  default void discardPrevious(Target target, StageContext context) {}

  /** What {@link #deliver} would do, for dry runs; secrets redacted. No side effect. */
  default List<String> describeDelivery(Bundle bundle, Target target) {
    List<String> lines = new ArrayList<>();
    lines.add("write to " + target + ":");
    for (String file : bundle.manifest()) {
      lines.add("  " + file);
    }
    return lines;
  }

  /** What {@link #remove} would do, for dry runs. No side effect. */
  default List<String> describeRemoval(Target target) {
    return List.of("delete " + target.configDir() + " on " + target.host());
  }
}
