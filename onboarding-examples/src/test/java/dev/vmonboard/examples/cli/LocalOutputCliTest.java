package dev.vmonboard.examples.cli;

import static dev.vmonboard.examples.cli.CliFixture.args;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --output-dir} and {@code --output-file} against another user of the onboarding host, and
 * the strict reading of numbers and paths, through the command line: a planted link, a FIFO or a
 * shared directory ends the run with a clear error naming the path (exit 1), never a hang, and
 * nothing outside vmonboard's own files changes; a number or path that breaks the rule is a usage
 * error (exit 2). The transports' own tests cover every case; these hold the command line to them.
 */
class LocalOutputCliTest {

  private static final int OTHER_UID = 65534;

  @TempDir static Path dir;
  static CliFixture fixture;

  @TempDir Path temp;
  private Path shared;
  private Path victim;

  @BeforeAll
  static void start() throws IOException {
    fixture = CliFixture.start(dir, 1, null);
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @BeforeEach
  void sharedDirectoryAndVictim() throws Exception {
    shared = Files.createDirectory(temp.resolve("shared"));
    exec("chmod", "1777", shared.toString());
    victim = Files.createDirectory(temp.resolve("victim"));
    Files.writeString(victim.resolve("data.txt"), "the victim's data\n");
    Files.writeString(victim.resolve("other.tgz"), "stands for another archive\n");
  }

  @Test
  void anOutputDirectoryPlantedAsALinkByAnotherUserEndsInAClearError() throws IOException {
    Path out = plantLink(shared.resolve("out"), victim);
    CliFixture.Run run = runUnchanged("-d", out.toString());
    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.all()).contains(out + " is a symbolic link that belongs to uid 65534");
  }

  @Test
  void anOutputFilePlantedAsALinkToAnotherArchiveIsNeverRead() throws IOException {
    Path out = plantLink(shared.resolve("fleet.tgz"), victim.resolve("other.tgz"));
    CliFixture.Run run = runUnchanged("--output-file", out.toString());
    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.all()).contains(out + " is a symbolic link").contains("was not opened");
  }

  @Test
  void aFifoAsTheOutputFileEndsInAnErrorNotAHang() throws Exception {
    Path fifo = shared.resolve("fleet.tgz");
    exec("mkfifo", fifo.toString());
    CliFixture.Run run = runUnchanged("--output-file", fifo.toString());
    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.all()).contains("is a FIFO (named pipe)");
  }

  @Test
  void anOutputDirectoryUnderADirectoryOthersCanWriteIsRefused() throws Exception {
    Path open = Files.createDirectory(temp.resolve("open"));
    exec("chmod", "0777", open.toString());
    CliFixture.Run run = runUnchanged("-d", open.resolve("out").toString());
    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.all()).contains(open + " is writable by other users without the sticky bit");
  }

  @Test
  void inASharedStickyDirectoryTheBundlesAreTheUsersOwnAndOwnerOnly() throws IOException {
    Path out = shared.resolve("out");
    CliFixture.Run run = fixture.run(args(List.of("vm-1.vms", "-d", out), fixture.cluster()));
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(Files.getAttribute(out, "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(040700);
  }

  @Test
  void numbersAreAsciiDigitsWithNothingAround() {
    for (List<String> bad :
        List.of(
            List.of("--ssh-port", "\u0662\u0662"),
            List.of("--ssh-port", " 22"),
            List.of("--ssh-port", "+22"),
            List.of("--concurrency", "\uff13"),
            List.of("--concurrency", "+3"))) {
      CliFixture.Run run = fixture.run(args(List.of("vm-1"), bad));
      assertThat(run.code()).as(run.toString()).isEqualTo(2);
      assertThat(run.err()).contains("is not a whole number written in ASCII digits");
    }
  }

  @Test
  void anOutputPathWithAFormatCharacterIsAUsageError() {
    CliFixture.Run run = fixture.run("vm-1", "-d", temp.resolve("out\u202etxt.sh").toString());
    assertThat(run.code()).as(run.toString()).isEqualTo(2);
    assertThat(run.err()).contains("contains the format character U+202E").doesNotContain("\u202e");
  }

  /** Runs the command with {@code output} for the fixture's VM: nothing under temp may change. */
  private CliFixture.Run runUnchanged(String... output) {
    Map<String, String> before = snapshot(temp);
    CliFixture.Run run =
        assertTimeoutPreemptively(
            Duration.ofSeconds(120),
            () -> fixture.run(args(List.of("vm-1.vms"), List.of(output), fixture.cluster())));
    assertThat(snapshot(temp)).isEqualTo(before);
    return run;
  }

  private static Path plantLink(Path link, Path target) throws IOException {
    assumeThat(new UnixSystem().getUid()).as("changing an owner needs root, as in CI").isZero();
    Files.createSymbolicLink(link, target);
    Files.setAttribute(link, "unix:uid", OTHER_UID, LinkOption.NOFOLLOW_LINKS);
    return link;
  }

  private static Map<String, String> snapshot(Path root) {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.toList()) {
        Map<String, Object> node =
            Files.readAttributes(path, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        String what = node.toString();
        if (Files.isSymbolicLink(path)) {
          what += " -> " + Files.readSymbolicLink(path);
        } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
          what += " " + Base64.getEncoder().encodeToString(Files.readAllBytes(path));
        }
        entries.put(root.relativize(path).toString(), what);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return entries;
  }

  private static void exec(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getInputStream().readAllBytes();
    assertThat(process.waitFor()).as(String.join(" ", command)).isZero();
  }
}
