package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything below a directory, byte for byte and never following a link or opening a special file:
 * each path with its type, mode, owner, group, and its content's SHA-256 (files) or target (links).
 * Two snapshots compared tell exactly what changed; the tests of the threat model assert that
 * nothing outside vmonboard's own files did, and that planted files and their targets are as the
 * attacker left them.
 */
final class FileTree {

  private FileTree() {}

  /** The snapshot of {@code root} (relative paths, sorted). */
  static Map<String, String> of(Path root) {
    Map<String, String> entries = new TreeMap<>();
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                throws IOException {
              entries.put(root.relativize(dir).toString(), describe(dir));
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              entries.put(root.relativize(file).toString(), describe(file));
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return entries;
  }

  private static String describe(Path path) throws IOException {
    Map<String, Object> unix =
        Files.readAttributes(path, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) unix.get("mode");
    String head = String.format("%06o %s:%s", mode, unix.get("uid"), unix.get("gid"));
    if (Files.isSymbolicLink(path)) {
      return head + " -> " + Files.readSymbolicLink(path);
    }
    if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      try {
        return head
            + " "
            + HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return head;
  }

  /** The paths whose entry differs between {@code before} and {@code after}, or that one lacks. */
  static Set<String> changed(Map<String, String> before, Map<String, String> after) {
    Set<String> changed = new TreeSet<>();
    for (String path : before.keySet()) {
      if (!before.get(path).equals(after.get(path))) {
        changed.add(path);
      }
    }
    for (String path : after.keySet()) {
      if (!before.containsKey(path)) {
        changed.add(path);
      }
    }
    return changed;
  }

  /**
   * Asserts that only paths at or below one of {@code own} (relative to the snapshot's root)
   * changed between the two snapshots; {@code own} empty: nothing changed at all.
   */
  static void assertOnlyChanged(
      Map<String, String> before, Map<String, String> after, List<String> own) {
    Set<String> foreign = new TreeSet<>();
    for (String path : changed(before, after)) {
      boolean ours = own.stream().anyMatch(o -> path.equals(o) || path.startsWith(o + "/"));
      if (!ours) {
        foreign.add(path + ": " + before.get(path) + " => " + after.get(path));
      }
    }
    assertThat(foreign).as("files changed outside vmonboard's own").isEmpty();
  }
}
