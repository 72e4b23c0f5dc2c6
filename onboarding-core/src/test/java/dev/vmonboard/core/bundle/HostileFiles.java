package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What another user of the onboarding host can leave in vmonboard's way, made for real in a temp
 * directory: files, links and directories owned by another uid (tests run as root in CI, where
 * root's permission checks do not apply, so "another user" is {@link #OTHER_UID} and the modes),
 * FIFOs and devices; and a byte-for-byte snapshot of a tree to prove nothing outside vmonboard's
 * own files changed.
 */
final class HostileFiles {

  /** The uid of "another user": {@code nobody} on Debian. */
  static final int OTHER_UID = 65534;

  private HostileFiles() {}

  /** Skips a test that changes owners when this process cannot (it is not root). */
  static void assumeRoot() {
    assumeThat(LocalFiles.USER).as("changing a file's owner needs root, as in CI").isZero();
  }

  /** Gives {@code path} itself (a link is not followed) to {@link #OTHER_UID}. */
  static Path giveToOtherUser(Path path) throws IOException {
    assumeRoot();
    Files.setAttribute(path, "unix:uid", OTHER_UID, LinkOption.NOFOLLOW_LINKS);
    return path;
  }

  /** A symbolic link at {@code link} to {@code target}, planted by {@link #OTHER_UID}. */
  static Path plantLink(Path link, Path target) throws IOException {
    return giveToOtherUser(Files.createSymbolicLink(link, target));
  }

  /** A FIFO at {@code path}, made with {@code mkfifo}. */
  static Path fifo(Path path) throws IOException, InterruptedException {
    run("mkfifo", path.toString());
    return path;
  }

  /** A character device at {@code path} with the numbers of {@code /dev/null} (needs root). */
  static Path device(Path path) throws IOException, InterruptedException {
    assumeRoot();
    run("mknod", path.toString(), "c", "1", "3");
    return path;
  }

  /** Sets exactly {@code mode} (with the sticky bit, if in it) on {@code path}. */
  static void chmod(Path path, int mode) throws IOException, InterruptedException {
    run("chmod", String.format("%04o", mode), path.toString());
  }

  /**
   * Every entry under {@code root} (links not followed): its type, owner and mode, a link's target
   * and a file's content, so that two snapshots are equal only if nothing changed.
   */
  static Map<String, String> snapshot(Path root) {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.toList()) {
        LocalFiles.Node node = LocalFiles.inspect(path).orElseThrow();
        String what = node.type() + " " + node.ownerAndMode() + " " + node.mode();
        if (node.isLink()) {
          what += " -> " + Files.readSymbolicLink(path);
        } else if (node.isRegularFile()) {
          what += " " + Base64.getEncoder().encodeToString(Files.readAllBytes(path));
        }
        entries.put(root.relativize(path).toString(), what);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return entries;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
