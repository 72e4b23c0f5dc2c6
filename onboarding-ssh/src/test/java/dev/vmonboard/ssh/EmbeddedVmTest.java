package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded VM itself: real commands in its own filesystem, the stand-ins, several at once. */
class EmbeddedVmTest {

  @TempDir Path dir;

  @Test
  void runsRealCommandsInItsFilesystemWithOnlyTheStandInsAndToolboxOnPath() throws Exception {
    Path base;
    try (TestVm vm = TestVm.start(dir);
        SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null)) {
      ExecResult result =
          c.exec(
              "probe",
              "pwd; echo \"$PATH\"; command -v docker; command -v python3 || echo no-python;"
                  + " touch made-here",
              new byte[0],
              Duration.ofSeconds(5));
      List<String> lines = result.stdoutText().lines().toList();
      assertThat(lines.get(0)).isEqualTo(vm.vm.root().toString());
      assertThat(lines.get(1).split(":")).hasSize(2);
      assertThat(lines.get(2)).endsWith("/bin/docker");
      assertThat(lines.get(3)).isEqualTo("no-python");
      assertThat(vm.vm.root().resolve("made-here")).exists();
      assertThat(vm.vm.receivedCommands()).hasSize(1);
      assertThat(vm.vm.knownHostsLine())
          .startsWith("[127.0.0.1]:" + vm.vm.port() + " ssh-ed25519 ");
      assertThat(vm.vm.hostKeyFingerprint()).startsWith("SHA256:");
      base = vm.vm.root().getParent();
    }
    assertThat(base).doesNotExist();
  }

  @Test
  void standInRuntimeAnswersLikeDocker() throws Exception {
    try (TestVm vm = TestVm.start(dir);
        SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null)) {
      String script =
          String.join(
              "\n",
              "docker inspect --format '{{.State.Status}}' p1; echo \"inspect-missing=$?\"",
              "docker rm -f p1; echo \"rm-missing=$?\"",
              "docker run -d --name p1 --network host img:1 proxy >/dev/null; echo \"run=$?\"",
              "docker run -d --name p1 img:1 >/dev/null; echo \"run-again=$?\"",
              "docker inspect --format '{{.State.Status}}' p1",
              "docker ps --format '{{.Names}}'",
              "curl -fsS http://localhost:15021/healthz/ready; echo \"curl=$?\"",
              "docker stop p1 >/dev/null; docker ps -a --format '{{.Names}}'",
              "curl -fsS http://localhost:15021/healthz/ready 2>/dev/null; echo \"curl-stopped=$?\"",
              "docker rm -f p1 >/dev/null; docker ps -a -q | wc -l");
      String out = c.exec("script", script, new byte[0], Duration.ofSeconds(10)).stdoutText();
      assertThat(out)
          .isEqualTo(
              "inspect-missing=1\nrm-missing=1\nrun=0\nrun-again=125\nrunning\np1\ncurl=0\np1\n"
                  + "curl-stopped=7\n0\n");
      assertThat(vm.vm.toolCalls())
          .contains(
              List.of(
                  "docker", "run", "-d", "--name", "p1", "--network", "host", "img:1", "proxy"));
    }
  }

  @Test
  void standInRuntimeStopsRenamesAndStartsLikeDocker() throws Exception {
    try (TestVm vm = TestVm.start(dir);
        SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null)) {
      vm.vm.containerExitsAtOnce("dies");
      String script =
          String.join(
              "\n",
              "docker run -d --name old img:1 >/dev/null",
              "docker stop old >/dev/null; docker inspect --format '{{.State.Status}}' old",
              "docker rename old kept; echo \"rename=$?\"",
              "docker rename old other 2>/dev/null; echo \"rename-missing=$?\"",
              "docker run -d --name dies img:2 >/dev/null",
              "docker rename kept dies 2>&1 | grep -c 'already in use'",
              "docker rename kept 'bad name' 2>/dev/null; echo \"rename-invalid=$?\"",
              "docker start kept >/dev/null; docker inspect --format '{{.State.Status}}' kept",
              "docker rm -f dies >/dev/null; docker run -d --name dies img:2 >/dev/null",
              "docker inspect --format '{{.State.Status}}' dies",
              "docker rm -f dies >/dev/null; docker rename kept dies; docker start dies >/dev/null",
              "docker inspect --format '{{.State.Status}}' dies",
              "docker start nothing 2>/dev/null; echo \"start-missing=$?\"");
      String out = c.exec("script", script, new byte[0], Duration.ofSeconds(10)).stdoutText();
      assertThat(out)
          .as("a container keeps its own nature when renamed and started again")
          .isEqualTo(
              "exited\nrename=0\nrename-missing=1\n1\nrename-invalid=1\nrunning\nexited\n"
                  + "running\nstart-missing=1\n");
      assertThat(vm.vm.containers()).containsExactly(java.util.Map.entry("dies", "running"));
    }
  }

  @Test
  void severalVmsRunAtOnceEachWithItsOwnState() throws Exception {
    List<TestVm> vms = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int i = 0; i < 4; i++) {
        vms.add(TestVm.start(Files.createDirectory(dir.resolve("vm" + i))));
      }
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < vms.size(); i++) {
        TestVm vm = vms.get(i);
        String name = "proxy-" + i;
        results.add(
            pool.submit(
                () -> {
                  try (SshConnection c = vm.connector.connect(vm.vm.host(), vm.vm.port(), null)) {
                    return c.exec(
                            "run",
                            "docker run -d --name "
                                + name
                                + " img >/dev/null && docker ps --format"
                                + " '{{.Names}}'",
                            new byte[0],
                            Duration.ofSeconds(10))
                        .stdoutText();
                  }
                }));
      }
      for (int i = 0; i < vms.size(); i++) {
        assertThat(results.get(i).get()).isEqualTo("proxy-" + i + "\n");
        assertThat(vms.get(i).vm.containers()).containsOnlyKeys("proxy-" + i);
      }
    } finally {
      pool.shutdownNow();
      vms.forEach(TestVm::close);
    }
  }
}
