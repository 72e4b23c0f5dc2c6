package dev.vmonboard.core.bundle;

import dev.vmonboard.core.StageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Local file operations of the offline transports: exact POSIX modes (the umask does not apply),
 * files that are never readable by others while being written, atomic replacement, and a lock per
 * path so that concurrent deliveries to the same place take turns.
 */
final class LocalFiles {

  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  private static final ConcurrentHashMap<Path, Object> LOCKS = new ConcurrentHashMap<>();

  /** A step on a path that may fail; lets tests fail a write at its last moment. */
  @FunctionalInterface
  interface Step {
    /** Does nothing: the step of production code. */
    Step NONE = path -> {};

    void run(Path path) throws IOException;
  }

  private LocalFiles() {}

  /** The lock for {@code path} (one per absolute, normalised path in this JVM). */
  static Object lock(Path path) {
    return LOCKS.computeIfAbsent(path.toAbsolutePath().normalize(), key -> new Object());
  }

  /** Writes a new file, owner-only until {@code mode} is set once the content is in. */
  static void writeFile(Path file, byte[] content, int mode) throws IOException {
    Files.write(Files.createFile(file, OWNER_ONLY_FILE), content);
    setMode(file, mode);
  }

  /** Creates a directory with exactly {@code mode}. */
  static void createDirectory(Path directory, int mode) throws IOException {
    Files.createDirectory(directory);
    setMode(directory, mode);
  }

  /** Sets exactly {@code mode} (the 0777 bits) on {@code path}. */
  static void setMode(Path path, int mode) throws IOException {
    Files.setPosixFilePermissions(path, permissions(mode));
  }

  /** The 0777 bits of {@code path}'s mode. */
  static int mode(Path path) throws IOException {
    int mode = 0;
    for (PosixFilePermission permission :
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)) {
      mode |= 0400 >> permission.ordinal();
    }
    return mode;
  }

  /**
   * Moves {@code source} to {@code target} atomically, replacing a file (or an empty directory)
   * there.
   */
  static void moveAtomically(Path source, Path target) throws IOException {
    Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Deletes {@code path} and everything under it, without following links; absent is fine. */
  static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        path,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path directory, IOException failure)
              throws IOException {
            if (failure != null) {
              throw failure;
            }
            Files.deleteIfExists(directory);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** {@link #deleteTree} as a best effort, for clean-up after a failure: false when it failed. */
  static boolean deleteTreeQuietly(Path path) {
    try {
      deleteTree(path);
      return true;
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  /** A failure of a local write, saying where. */
  static StageException failure(String what, Path where, IOException cause) {
    String detail =
        cause instanceof NoSuchFileException
            ? "no such file or directory: " + cause.getMessage()
            : cause.toString();
    return StageException.permanent(
        what + " " + where + " failed: " + detail,
        "check that the directory exists and is writable; the previous content is unchanged",
        cause);
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission permission : PosixFilePermission.values()) {
      if ((mode & (0400 >> permission.ordinal())) != 0) {
        permissions.add(permission);
      }
    }
    return permissions;
  }
}
