package dev.vmonboard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.examples.cli.SidecarBootstrap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local output on a read-only disk (which file modes cannot simulate for root) is refused with
 * the path named and exit code 2 before the cluster is even contacted: no token issued, nothing
 * written.
 */
class UnwritableOutputTest {

  @TempDir Path dir;

  @Test
  void anOutputFileOrDirectoryOnAReadOnlyDiskIsRefusedBeforeAnythingHappens() throws Exception {
    Path disk = dir.resolve("disk");
    try (Mounts mount = Mounts.tmpfs(disk, 64)) {
      mount.readOnly();
      Path file = disk.resolve("out/bundles.tgz");
      String[] run = {"-a", "-n", "vmonboard-demo-secure", "--embedded-cluster", "--output-file"};
      Result toFile = run(append(run, file.toString()));
      assertThat(toFile.code()).as(toFile.err()).isEqualTo(2);
      assertThat(toFile.err().lines()).hasSize(1);
      assertThat(toFile.err())
          .contains("--output-file " + file + ": cannot be written, " + disk + " is not writable");

      Path out = disk.resolve("bundles");
      run[run.length - 1] = "--output-dir";
      Result toDir = run(append(run, out.toString()));
      assertThat(toDir.code()).as(toDir.err()).isEqualTo(2);
      assertThat(toDir.err())
          .contains("--output-dir " + out + ": cannot be written, " + disk + " is not writable");
      for (Result result : new Result[] {toFile, toDir}) {
        assertThat(result.err()).doesNotContain("bootstrapping");
        assertThat(result.out()).isEmpty();
      }
    }
  }

  private static String[] append(String[] args, String last) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = last;
    return all;
  }

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        SidecarBootstrap.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(new byte[0]));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
