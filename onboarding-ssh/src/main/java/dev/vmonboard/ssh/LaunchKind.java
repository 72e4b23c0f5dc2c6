package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.LaunchSpec;
import dev.vmonboard.core.Problem;
import java.util.List;

/** The check both launchers make before anything is delivered: is the bundle of their kind. */
final class LaunchKind {

  private LaunchKind() {}

  /**
   * No problem when {@code bundle} asks for a {@code kind} launch; else one naming the field {@code
   * launcher} and what to use instead.
   */
  static List<Problem> require(
      Bundle bundle,
      Class<? extends LaunchSpec> kind,
      String launcher,
      String otherLauncher,
      String factory) {
    if (kind.isInstance(bundle.launch())) {
      return List.of();
    }
    return List.of(
        Problem.of(
            "launcher",
            launcher
                + " starts only "
                + kind.getSimpleName()
                + " bundles; use "
                + otherLauncher
                + " for these, or build the bundles with "
                + factory));
  }
}
