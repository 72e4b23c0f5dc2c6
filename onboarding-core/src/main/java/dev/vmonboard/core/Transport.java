package dev.vmonboard.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Stage 3: delivers a bundle to where the proxy will read it, and removes it again.
 *
 * <p>Defaults: {@code SshTransport} ({@code onboarding-ssh}) to a VM; {@code
 * LocalDirectoryTransport} and {@code ArchiveTransport} (this module) for media carried by other
 * means. A delivery replaces the previous bundle as a whole or not at all: when it fails, the
 * target keeps its previous configuration. Implementations must be thread-safe.
 */
public interface Transport {

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

  /** Deletes the bundle from {@code target}; nothing there is fine. */
  void remove(Target target, StageContext context);

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
