package dev.vmonboard.reliability;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small tmpfs mounted inside a VM's filesystem: a disk that can fill up or turn read-only, which
 * file modes cannot simulate for a VM user who is root (as the test VMs' user is here). Needs
 * {@code mount} and the right to use it: tests skip without, and fail without when {@code CI} is
 * set.
 */
final class Mounts implements AutoCloseable {

  private final Path dir;

  private Mounts(Path dir) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of {@code kilobytes} at {@code dir} (created if needed). */
  static Mounts tmpfs(Path dir, int kilobytes) throws IOException {
    Files.createDirectories(dir);
    String problem =
        run(
            "mount",
            "-t",
            "tmpfs",
            "-o",
            "size=" + kilobytes + "k,mode=0755",
            "tmpfs",
            dir.toString());
    if (problem != null) {
      if (System.getenv("CI") != null) {
        fail("cannot mount a tmpfs (CI is set, so this fails instead of skipping): " + problem);
      }
      assumeTrue(false, "cannot mount a tmpfs here: " + problem);
    }
    return new Mounts(dir);
  }

  /** Makes the file system read-only, as a disk remounted after errors is. */
  void readOnly() {
    String problem = run("mount", "-o", "remount,ro", dir.toString());
    if (problem != null) {
      throw new IllegalStateException("cannot remount " + dir + " read-only: " + problem);
    }
  }

  /** Fills the file system with a file until no byte more fits. */
  void fill() throws IOException {
    byte[] block = new byte[4096];
    try (var out = Files.newOutputStream(dir.resolve("filler"))) {
      for (int i = 0; i < 1_000_000; i++) {
        out.write(block);
        out.flush();
      }
    } catch (IOException full) {
      if (!String.valueOf(full.getMessage()).contains("No space left")) {
        throw full;
      }
    }
  }

  @Override
  public void close() {
    String problem = run("umount", dir.toString());
    if (problem != null) {
      throw new IllegalStateException("cannot unmount " + dir + ": " + problem);
    }
  }

  /** Runs a command; null when it succeeded, else what it said. */
  private static String run(String... command) {
    List<String> words = new ArrayList<>(List.of(command));
    try {
      Process process = new ProcessBuilder(words).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return process.waitFor() == 0 ? null : output.strip() + " (exit " + process.exitValue() + ")";
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
