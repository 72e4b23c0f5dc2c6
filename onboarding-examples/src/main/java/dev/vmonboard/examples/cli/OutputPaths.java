package dev.vmonboard.examples.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses an {@code --output-file} or {@code --output-dir} that this process cannot write, before
 * anything is registered or issued: the nearest existing directory on the way to it must be a
 * directory this process may write to (as {@code access(2)} answers: modes, read-only file systems,
 * root), and an existing output must be of the right kind.
 */
final class OutputPaths {

  private OutputPaths() {}

  /** Checks {@code --output-file file}. */
  static void checkFile(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    if (Files.isDirectory(absolute)) {
      throw new UsageError("--output-file " + file + " is a directory: name the .tgz to write");
    }
    if (Files.exists(absolute) && !Files.isWritable(absolute)) {
      throw new UsageError("--output-file " + file + " exists and cannot be replaced");
    }
    requireWritableAncestor("--output-file", file, absolute.getParent());
  }

  /** Checks {@code --output-dir dir}. */
  static void checkDirectory(Path dir) {
    Path absolute = dir.toAbsolutePath().normalize();
    if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
      throw new UsageError("--output-dir " + dir + " exists and is not a directory");
    }
    requireWritableAncestor("--output-dir", dir, absolute);
  }

  private static void requireWritableAncestor(String option, Path given, Path start) {
    Path existing = start;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      throw new UsageError(option + " " + given + ": no part of its path exists");
    }
    if (!Files.isDirectory(existing)) {
      throw new UsageError(
          option + " " + given + ": cannot be written, " + existing + " is not a directory");
    }
    if (!Files.isWritable(existing)) {
      throw new UsageError(
          option
              + " "
              + given
              + ": cannot be written, "
              + existing
              + " is not writable"
              + (existing.equals(start) ? "" : " (the directories below it would be created)"));
    }
  }
}
