package dev.vmonboard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution the build wrote, run as a user runs it: {@code bin/sidecar-bootstrap} and {@code
 * bin/vmonboard-controller} as processes, arguments passed through unchanged, the class-data
 * archive used where it was made and made again where the directory moved.
 */
class LauncherIT {

  static final Path DIST = Path.of(System.getProperty("dist.dir"));
  static final String VERSION = System.getProperty("vmonboard.version");

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(Path launcher, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(launcher.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("JAVA_OPTS");
    builder.environment().remove("KUBECONFIG");
    builder.environment().putAll(env);
    Path out = Files.createTempFile("launcher", ".out");
    Path err = Files.createTempFile("launcher", ".err");
    Process process =
        builder
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    int code = process.waitFor();
    Run run = new Run(code, Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return run;
  }

  @Test
  void helpAndVersionRunFromTheDistribution() throws Exception {
    Path launcher = DIST.resolve("bin/sidecar-bootstrap");
    assertThat(Files.isExecutable(launcher)).isTrue();

    Run help = run(launcher, Map.of(), "--help");
    assertThat(help.code()).as(help.err()).isZero();
    assertThat(help.out()).startsWith("Usage: sidecar-bootstrap");

    Run version = run(launcher, Map.of(), "--version");
    assertThat(version.code()).as(version.err()).isZero();
    assertThat(version.out()).startsWith("sidecar-bootstrap (vmonboard) " + VERSION + "\n");
  }

  @Test
  void argumentsReachTheCommandUnchanged() throws Exception {
    String path = dir.resolve("my  kube config $HOME *").toString();
    Run run = run(DIST.resolve("bin/sidecar-bootstrap"), Map.of(), "vm-1", "--kubeconfig", path);
    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "sidecar-bootstrap: error: --kubeconfig "
                + path
                + ": no such file, or it cannot be read\n");
  }

  @Test
  void itStartsFromTheClassDataArchiveMadeForThisDirectory() throws Exception {
    Path archive = DIST.resolve("lib/sidecar-bootstrap.jsa");
    assertThat(archive).isRegularFile();
    assertThat(Files.readString(DIST.resolve("lib/sidecar-bootstrap.jsa.home")).strip())
        .isEqualTo(DIST.toRealPath().toString());
    Path log = dir.resolve("classes.log");
    Run help =
        run(
            DIST.resolve("bin/sidecar-bootstrap"),
            Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + log),
            "--help");
    assertThat(help.code()).as(help.err()).isZero();
    assertThat(fromJars(log))
        .as("classes read from the jars rather than the archive")
        .isLessThan(20);
  }

  @Test
  void aMovedDistributionMakesItsArchiveAgainOnItsFirstRun() throws Exception {
    Path moved = dir.resolve("opt/vmonboard");
    copy(DIST, moved);
    Files.delete(moved.resolve("lib/sidecar-bootstrap.jsa"));
    Path launcher = moved.resolve("bin/sidecar-bootstrap");

    Run first = run(launcher, Map.of(), "--help");
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(moved.resolve("lib/sidecar-bootstrap.jsa")).isRegularFile();
    assertThat(Files.readString(moved.resolve("lib/sidecar-bootstrap.jsa.home")).strip())
        .isEqualTo(moved.toRealPath().toString());

    Path log = dir.resolve("second.log");
    Run second = run(launcher, Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + log), "--help");
    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.out()).isEqualTo(first.out());
    assertThat(fromJars(log))
        .as("classes read from the jars rather than the archive")
        .isLessThan(20);

    Run off =
        run(
            launcher,
            Map.of("VMONBOARD_CDS", "off", "JAVA_OPTS", "-Xlog:class+load=info:file=" + log),
            "--help");
    assertThat(off.code()).isZero();
    assertThat(fromJars(log)).isGreaterThan(150);
  }

  @Test
  void itRunsFromADirectoryWhosePathHasSpaces() throws Exception {
    Path moved = dir.resolve("my tools/vm onboard");
    copy(DIST, moved);
    Run help =
        run(moved.resolve("bin/sidecar-bootstrap"), Map.of("VMONBOARD_CDS", "off"), "--help");
    assertThat(help.code()).as(help.err()).isZero();
    assertThat(help.out()).startsWith("Usage: sidecar-bootstrap");
  }

  @Test
  void theControllerLauncherPassesItsArgumentsToTheController() throws Exception {
    Run run = run(DIST.resolve("bin/vmonboard-controller"), Map.of(), "--namespace", "a b");
    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err())
        .startsWith("vmonboard-controller takes no arguments; it reads its settings from the")
        .contains("POD_NAMESPACE");
  }

  /** Classes the JVM read from the distribution's jars (not from an archive): a class+load log. */
  private static long fromJars(Path log) throws IOException {
    try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
      return lines.filter(line -> line.contains("source: file:")).count();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path source : walk.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
