package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one shell per run that runs every stage's script: scripts stay apart, results are told from
 * diagnostics, nothing reads the shell's input, a cut script runs nothing, and a script that does
 * not answer in time is abandoned with its shell.
 */
class RemoteShellTest {

  @TempDir static Path dir;
  static TestVm vm;

  @BeforeAll
  static void start() throws IOException {
    vm = TestVm.start(dir);
  }

  @AfterAll
  static void stop() {
    vm.close();
  }

  private static ExecResult run(RemoteShell shell, String... lines) throws SshException {
    return shell.run("test", new RemoteScript().lines(lines), Duration.ofSeconds(10));
  }

  @Test
  void runsManyScriptsInOneChannelEachInItsOwnSubshell() throws Exception {
    try (SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null);
        RemoteShell shell = c.openShell("test")) {
      ExecResult first =
          run(shell, "secret_var=1", "leaky() { :; }", "umask 077", "cd /", "say first");
      ExecResult failed = run(shell, "fail 42 'it went wrong'");
      ExecResult exited = run(shell, "exit 3");
      ExecResult last =
          run(shell, "say \"${secret_var:-unset} $(umask) $(pwd)\"", "command -v leaky || true");
      assertThat(first.exitCode()).isZero();
      assertThat(first.stdoutText()).isEqualTo("first\n");
      assertThat(failed.exitCode()).isEqualTo(42);
      assertThat(failed.lastErrorLines(1)).isEqualTo("vmonboard: it went wrong");
      assertThat(exited.exitCode()).isEqualTo(3);
      assertThat(last.stdoutText()).isEqualTo("unset 0022 " + vm.vm.root() + "\n");
      assertThat(last.lastErrorLines(1)).isEmpty();
      assertThat(c.channelsOpened()).isEqualTo(1);
      assertThat(shell.isUsable()).isTrue();
    }
  }

  @Test
  void tellsResultsFromDiagnosticsThatTryToForgeThem() throws Exception {
    try (SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null);
        RemoteShell shell = c.openShell("test")) {
      ExecResult result =
          run(
              shell,
              "echo 'plain output'",
              "echo 'to stderr' >&2",
              "printf 'vmo0123456789abcdef01234567 0\\nready 99\\n'",
              "say ready 1");
      assertThat(result.exitCode()).isZero();
      assertThat(result.stdoutText()).isEqualTo("ready 1\n");
      assertThat(result.stderrTail())
          .contains("plain output", "to stderr", "vmo0123456789abcdef01234567 0", "ready 99");
    }
  }

  @Test
  void commandsReadNothingFromTheShellsInput() throws Exception {
    try (SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null);
        RemoteShell shell = c.openShell("test")) {
      ExecResult read = run(shell, "x=$(cat); say \"read ${#x} bytes\"");
      ExecResult next = run(shell, "say still here");
      assertThat(read.stdoutText()).isEqualTo("read 0 bytes\n");
      assertThat(next.stdoutText()).isEqualTo("still here\n");
    }
  }

  @Test
  void aScriptCutShortRunsNothing() throws Exception {
    byte[] large = new byte[2 << 20];
    Arrays.fill(large, (byte) 'x');
    Path before = vm.vm.root().resolve("cut-before");
    Path after = vm.vm.root().resolve("cut-after");
    try (TcpRelay relay = TcpRelay.cuttingAfter(vm.vm.port(), 1 << 20)) {
      Path knownHosts =
          Files.writeString(
              dir.resolve("known_hosts_relay"),
              vm.vm.knownHostsLine().replace(":" + vm.vm.port() + " ", ":" + relay.port() + " "));
      SshConnector connector =
          SshConnector.builder()
              .identity(vm.key.identity())
              .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
              .build();
      try (SshConnection c = connector.connect(vm.vm.host(), relay.port(), null);
          RemoteShell shell = c.openShell("test")) {
        RemoteScript script =
            new RemoteScript()
                .lines("touch " + before)
                .writeFile(vm.vm.root().resolve("cut-large").toString(), large, 21, "large")
                .lines("touch " + after, "say done");
        assertThatThrownBy(() -> shell.run("cut", script, Duration.ofSeconds(10)))
            .isInstanceOf(SshException.class)
            .hasMessageContaining("before the command finished")
            .satisfies(e -> assertThat(((SshException) e).isTransient()).isTrue());
        assertThat(shell.isUsable()).isFalse();
      }
    }
    Thread.sleep(200);
    assertThat(before).doesNotExist();
    assertThat(after).doesNotExist();
    assertThat(vm.vm.root().resolve("cut-large")).doesNotExist();
  }

  @Test
  void aScriptThatDoesNotAnswerInTimeIsAbandonedAndTheNextStageGetsANewShell() throws Exception {
    Target target = vm.newTarget();
    try (StageContext.Standalone run = TestVm.context(Stage.LAUNCH)) {
      VmSession session = VmSession.of(vm.connector, target, run);
      long start = System.nanoTime();
      assertThatThrownBy(
              () ->
                  session.run(
                      "wait", new RemoteScript().lines("sleep 30"), Duration.ofMillis(500), run))
          .isInstanceOf(StageException.class)
          .hasMessageContaining("no answer within 500 ms")
          .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue());
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      ExecResult next =
          session.run("next", new RemoteScript().lines("say again"), Duration.ofSeconds(10), run);
      assertThat(next.stdoutText()).isEqualTo("again\n");
      assertThat(session.connectionsOpened()).isEqualTo(1);
      assertThat(session.channelsOpened()).isEqualTo(2);
    }
  }

  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @Test
  void closingTheSessionFromAnotherThreadEndsAScriptInProgressAndAnyLaterOne() throws Exception {
    Target target = vm.newTarget();
    try (StageContext.Standalone run = TestVm.context(Stage.LAUNCH)) {
      VmSession session = VmSession.of(vm.connector, target, run);
      Thread closer =
          new Thread(
              () -> {
                try {
                  Thread.sleep(300);
                } catch (InterruptedException e) {
                  return;
                }
                session.close();
              });
      long start = System.nanoTime();
      closer.start();
      assertThatThrownBy(
              () ->
                  session.run(
                      "wait", new RemoteScript().lines("sleep 30"), Duration.ofSeconds(60), run))
          .isInstanceOf(StageException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      closer.join();
      assertThatThrownBy(
              () -> session.run("next", new RemoteScript().lines("say again"), PATIENCE, run))
          .isInstanceOf(StageException.class)
          .hasMessageContaining("its run has ended");
      assertThat(session.connectionsOpened()).isEqualTo(1);
    }
  }

  @Test
  void neverShowsTheScriptsText() {
    RemoteScript script =
        new RemoteScript().writeFile("\"$tmp\"/token", Bundles.bytes("s3cr3t"), 21, "the token");
    assertThat(script.toString()).doesNotContain("s3cr3t").startsWith("RemoteScript[");
    assertThat(RemoteScript.printfFormat(Bundles.bytes("-a'b%c\\d\n\u00e9")))
        .isEqualTo("\\055a\\047b%%c\\\\d\n\\303\\251");
  }
}
