package dev.vmonboard.core.bundle;

import com.sun.security.auth.module.UnixSystem;
import dev.vmonboard.core.StageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Local file operations of the offline transports, under one rule for every path they touch:
 *
 * <ul>
 *   <li>A link is followed only when no one but the user running vmonboard (or root) can have
 *       planted it: it belongs to one of them, in a directory that does. Every directory on the way
 *       must belong to the user or root and be writable by no one else, unless it has the sticky
 *       bit ({@code /tmp}), where no one else can rename or delete what the user made. So once a
 *       path has passed {@link #trustedDirectory}, no other user can swap anything on it.
 *   <li>What is missing is created with its intended mode (owner-only directories, owner-only files
 *       until their content is in; the umask does not apply); what exists must have the right type,
 *       belong to the user and be writable by no one else, or it is refused, never adopted (links,
 *       FIFOs, devices and sockets always are).
 *   <li>Writes go to a new file or directory with an unpredictable name ({@code createTemp*},
 *       {@code O_EXCL}) in the target's own directory, which is then renamed into place; a file is
 *       never opened for writing at a name that existed before, and one that is read is opened with
 *       {@code O_NOFOLLOW} after its type was checked, so no open can block on a FIFO.
 * </ul>
 *
 * <p>Also: a lock per path so that concurrent deliveries to the same place take turns.
 */
final class LocalFiles {

  /** The uid this process runs as: with root, the only owner whose files and links are trusted. */
  static final long USER = new UnixSystem().getUid();

  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  /** The mode of a directory the transports create on the way to their destination. */
  static final int CREATED_DIRECTORY_MODE = 0700;

  private static final int TYPE_BITS = 0170000;
  private static final int STICKY = 01000;
  private static final int WRITABLE_BY_OTHERS = 0022;
  private static final int MAX_LINKS = 40;

  private static final ConcurrentHashMap<Path, Object> LOCKS = new ConcurrentHashMap<>();

  /** A step on a path that may fail; lets tests fail a write at its last moment. */
  @FunctionalInterface
  interface Step {
    /** Does nothing: the step of production code. */
    Step NONE = path -> {};

    void run(Path path) throws IOException;
  }

  /** What {@code lstat} says of an existing path: its mode (with the type bits), owner, links. */
  record Node(Path path, int mode, long uid, int links) {

    boolean isDirectory() {
      return (mode & TYPE_BITS) == 0040000;
    }

    boolean isRegularFile() {
      return (mode & TYPE_BITS) == 0100000;
    }

    boolean isLink() {
      return (mode & TYPE_BITS) == 0120000;
    }

    /** The permission bits, 07777. */
    int permissions() {
      return mode & 07777;
    }

    /** Whether the user running vmonboard owns it. */
    boolean isUsers() {
      return uid == USER;
    }

    /** What it is, for a message: "a FIFO (named pipe)", "a symbolic link", ... */
    String type() {
      switch (mode & TYPE_BITS) {
        case 0040000:
          return "a directory";
        case 0100000:
          return "a regular file";
        case 0120000:
          return "a symbolic link";
        case 0010000:
          return "a FIFO (named pipe)";
        case 0020000:
          return "a character device";
        case 0060000:
          return "a block device";
        case 0140000:
          return "a socket";
        default:
          return "a special file";
      }
    }

    /** The owner and mode, for a message: "uid 65534, mode 0777". */
    String ownerAndMode() {
      return "uid " + uid + ", mode " + String.format("%04o", permissions());
    }
  }

  private LocalFiles() {}

  /** What is at {@code path} itself (a link is described, not followed); empty when nothing is. */
  static Optional<Node> inspect(Path path) throws IOException {
    try {
      Map<String, Object> attributes =
          Files.readAttributes(path, "unix:mode,uid,nlink", LinkOption.NOFOLLOW_LINKS);
      return Optional.of(
          new Node(
              path,
              (Integer) attributes.get("mode"),
              ((Number) attributes.get("uid")).longValue(),
              (Integer) attributes.get("nlink")));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /**
   * The directory {@code directory} names, as a path without links, once every component on the way
   * has passed the rule above; missing components are created ({@link #CREATED_DIRECTORY_MODE})
   * when {@code create}, else the result is empty. With {@code own}, the directory itself must
   * moreover belong to the user and be writable by no one else (sticky bit or not): it is the one
   * the transport fills.
   *
   * @throws StageException naming the component at fault when one breaks the rule
   */
  static Optional<Path> trustedDirectory(Path directory, boolean create, boolean own)
      throws IOException {
    Path absolute = directory.toAbsolutePath();
    Path current = absolute.getRoot();
    checkParent(inspect(current).orElseThrow());
    Deque<String> names = new ArrayDeque<>(names(absolute));
    int links = 0;
    while (!names.isEmpty()) {
      String name = names.pop();
      if (name.equals(".")) {
        continue;
      }
      if (name.equals("..")) {
        current = current.getParent() == null ? current : current.getParent();
        continue;
      }
      Path next = current.resolve(name);
      Optional<Node> found = inspect(next);
      if (found.isEmpty()) {
        if (!create) {
          return Optional.empty();
        }
        try {
          Files.createDirectory(next, OWNER_ONLY_DIRECTORY);
        } catch (FileAlreadyExistsException raced) {
          names.push(name);
          continue;
        }
        setMode(next, CREATED_DIRECTORY_MODE);
        current = next;
        continue;
      }
      Node node = found.get();
      if (node.isLink()) {
        if (!node.isUsers() && node.uid() != 0) {
          throw refused(
              next,
              "is a symbolic link that belongs to uid "
                  + node.uid()
                  + ": only links of the user running vmonboard (uid "
                  + USER
                  + ") or root are followed");
        }
        if (++links > MAX_LINKS) {
          throw refused(directory, "has more than " + MAX_LINKS + " symbolic links on its way");
        }
        Path target = Files.readSymbolicLink(next);
        List<String> parts = names(target);
        for (int i = parts.size() - 1; i >= 0; i--) {
          names.push(parts.get(i));
        }
        if (target.isAbsolute()) {
          current = target.getRoot();
        }
        continue;
      }
      if (!node.isDirectory()) {
        throw refused(next, "is " + node.type() + ", not a directory");
      }
      if (names.isEmpty() && own) {
        checkOwn(node);
      } else {
        checkParent(node);
      }
      current = next;
    }
    return Optional.of(current);
  }

  /**
   * Refuses a directory other users could change: one owned by neither the user nor root, or
   * writable by others without the sticky bit.
   */
  private static void checkParent(Node directory) {
    if (!directory.isUsers() && directory.uid() != 0) {
      throw refused(
          directory.path(),
          "belongs to uid "
              + directory.uid()
              + ", who could plant a link or file in it; vmonboard (uid "
              + USER
              + ") writes only under directories of its user or root");
    }
    if ((directory.permissions() & WRITABLE_BY_OTHERS) != 0
        && (directory.permissions() & STICKY) == 0) {
      throw refused(
          directory.path(),
          "is writable by other users without the sticky bit ("
              + directory.ownerAndMode()
              + "): anyone could plant a link in it");
    }
  }

  /** Refuses what does not belong to the user, or that others can write. */
  static void checkOwn(Node node) {
    if (!node.isUsers()) {
      throw refused(
          node.path(),
          "belongs to uid "
              + node.uid()
              + ", not to the user running vmonboard (uid "
              + USER
              + "): it was not made by vmonboard");
    }
    if ((node.permissions() & WRITABLE_BY_OTHERS) != 0) {
      throw refused(
          node.path(),
          "is writable by other users (" + node.ownerAndMode() + "): it was not made by vmonboard");
    }
  }

  /**
   * A refusal to use {@code where}: permanent, saying why and what to do. The text holds only
   * paths, owners and modes, never content.
   */
  static StageException refused(Path where, String why) {
    return StageException.permanent(
        where + " " + why,
        "use a path whose directories only you (or root) can write, and move away what is there"
            + " if vmonboard did not make it; nothing was written");
  }

  /**
   * Reads {@code node}'s file, which was checked to be a regular file: opened with {@code
   * O_NOFOLLOW}, so a link put there since is refused rather than read.
   */
  static InputStream openChecked(Node node) throws IOException {
    if (!node.isRegularFile()) {
      throw refused(node.path(), "is " + node.type() + ", not a regular file");
    }
    return Files.newInputStream(node.path(), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * A new file in {@code directory} with an unpredictable name starting {@code prefix}, created
   * owner-only ({@code O_EXCL}: never an existing file or link).
   */
  static Path createTempFile(Path directory, String prefix) throws IOException {
    return Files.createTempFile(directory, prefix, "", OWNER_ONLY_FILE);
  }

  /**
   * Puts the finished {@code staging} file at {@code target}, in the same directory: over the
   * user's own file there when {@code replacing} (one atomic rename), else as a new name that must
   * still be free ({@code link(2)} fails if anything appeared there meanwhile, so nothing another
   * user planted is ever replaced), then drops the staging name.
   */
  static void publishFile(Path staging, Path target, boolean replacing) throws IOException {
    if (replacing) {
      moveAtomically(staging, target);
      return;
    }
    try {
      Files.createLink(target, staging);
    } catch (FileAlreadyExistsException e) {
      throw refused(target, "appeared while vmonboard was writing it: it was left alone");
    }
    Files.delete(staging);
  }

  /** The names of {@code path}, without its root. */
  private static List<String> names(Path path) {
    List<String> names = new ArrayList<>();
    for (Path name : path) {
      names.add(name.toString());
    }
    return names;
  }

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

  /** Deletes the file {@code path} as a best effort, for clean-up after a failure. */
  static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // best effort: the name is unpredictable and owner-only
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
