package dev.vmonboard.examples.cli;

import static dev.vmonboard.examples.cli.CliFixture.args;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.ssh.EmbeddedVm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against the embedded cluster and embedded VMs, over real SSH. */
class SidecarBootstrapTest {

  @TempDir Path dir;
  private CliFixture fixture;

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void bootstrapsAFleetWithATableThenOffboardsIt() throws Exception {
    fixture = CliFixture.start(dir, 3, null);

    CliFixture.Run run =
        fixture.run(
            args(
                List.of("-a", "-n", CliFixture.NAMESPACE),
                fixture.cluster(),
                fixture.login(),
                List.of("--start-istio-proxy", "--concurrency", "2", "--duration", "1h")));

    assertThat(run.code()).as(run.toString()).isZero();
    for (EmbeddedVm vm : fixture.vms) {
      assertThat(vm.containers()).isEqualTo(Map.of("istio-proxy", "running"));
      assertThat(CliFixture.configDir(vm).resolve(ContainerBundleFactory.TOKEN)).exists();
      assertThat(CliFixture.configDir(vm).resolve("sidecar.env")).exists();
    }
    assertThat(run.out())
        .containsPattern("VM +RESULT +DURATION +ERROR")
        .containsPattern("vms/vm-1 +SUCCEEDED +\\d+ ms")
        .containsPattern("vms/vm-3 +SUCCEEDED")
        .contains("3 VMs: 3 succeeded, 0 failed");
    assertThat(run.err())
        .contains("bootstrapping 3 VMs")
        .contains("proxy started")
        .containsPattern("start +vms/vm-2")
        .containsPattern("\\[\\d/3\\] ok +vms/vm-2 +SUCCEEDED");

    CliFixture.Run offboard =
        fixture.run(
            args(
                List.of("-a", "-n", CliFixture.NAMESPACE),
                fixture.cluster(),
                fixture.login(),
                List.of("--offboard")));

    assertThat(offboard.code()).as(offboard.toString()).isZero();
    for (EmbeddedVm vm : fixture.vms) {
      assertThat(vm.containers()).isEmpty();
      assertThat(CliFixture.configDir(vm)).doesNotExist();
      assertThat(Path.of(CliFixture.configDir(vm) + "-certs")).doesNotExist();
    }
    assertThat(offboard.err()).contains("offboarding 3 VMs").contains("proxy stopped and removed");
    assertThat(offboard.out()).contains("3 VMs: 3 succeeded, 0 failed");
  }

  @Test
  void withoutStartIstioProxyOnlyCopiesTheBundle() throws Exception {
    fixture = CliFixture.start(dir, 1, null);

    CliFixture.Run run = fixture.run(args(List.of("vm-1.vms"), fixture.cluster(), fixture.login()));

    assertThat(run.code()).as(run.toString()).isZero();
    EmbeddedVm vm = fixture.vms.get(0);
    assertThat(CliFixture.configDir(vm).resolve(ContainerBundleFactory.TOKEN)).exists();
    assertThat(vm.containers()).isEmpty();
    assertThat(run.err())
        .contains("proxy not started (--start-istio-proxy starts it)")
        .contains("deliver the bundle: ok in");
  }

  @Test
  void exitsOneAndNamesTheVmAndStageWhenOneFails() throws Exception {
    fixture = CliFixture.start(dir, 3, null);
    fixture.vms.get(1).containerExitsAtOnce("istio-proxy");

    CliFixture.Run run =
        fixture.run(
            args(
                List.of("vm-1", "vm-2", "vm-3", "-n", CliFixture.NAMESPACE),
                fixture.cluster(),
                fixture.login(),
                List.of("--start-istio-proxy")));

    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.out())
        .containsPattern("vms/vm-1 +SUCCEEDED")
        .containsPattern(
            "vms/vm-2 +FAILED +\\d+ ms +stage 'start the proxy' \\(ProxyLauncher\\) failed on host"
                + " 127.0.0.1")
        .containsPattern("vms/vm-3 +SUCCEEDED")
        .contains("3 VMs: 2 succeeded, 1 failed");
    assertThat(run.err()).containsPattern("FAILED +vms/vm-2");
  }

  @Test
  void timeoutLimitsHowLongAProxyMayTakeToGetReady() throws Exception {
    fixture = CliFixture.start(dir, 1, null);
    fixture.vms.get(0).neverReady();

    long started = System.nanoTime();
    CliFixture.Run run =
        fixture.run(
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                fixture.login(),
                List.of("--start-istio-proxy", "--timeout", "2s")));

    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.out()).containsPattern("vms/vm-1 +FAILED .*start the proxy");
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - started))
        .isLessThan(java.time.Duration.ofSeconds(30));
  }

  @Test
  void dryRunPrintsEachPlanWithTheTokenRedactedAndChangesNothing() throws Exception {
    fixture = CliFixture.start(dir, 1, null);

    CliFixture.Run run =
        fixture.run(
            args(
                List.of("vm-1", "-n", CliFixture.NAMESPACE),
                fixture.cluster(),
                List.of("--dry-run", "--start-istio-proxy")));

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out())
        .contains("plan for vms/vm-1 on 127.0.0.1:")
        .contains("0600 tokens/istio-token (bootstrap token, redacted)")
        .contains("docker run -d --name istio-proxy")
        .containsPattern("vms/vm-1 +PLANNED");
    assertThat(CliFixture.configDir(fixture.vms.get(0))).doesNotExist();
    assertThat(fixture.vms.get(0).connectionsAccepted()).isZero();
  }

  @Test
  void asksForThePasswordAtThePromptAndNeverPrintsIt() throws Exception {
    fixture = CliFixture.start(dir, 1, "s3cret-pw");

    CliFixture.Run run =
        fixture.run(
            List.of("s3cret-pw"),
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                List.of("--known-hosts", fixture.knownHosts, "--ssh-password")));

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.prompts()).containsExactly("SSH password: ");
    assertThat(run.all()).doesNotContain("s3cret-pw");
    assertThat(CliFixture.configDir(fixture.vms.get(0)).resolve(ContainerBundleFactory.TOKEN))
        .exists();
  }

  @Test
  void refusesAPasswordGivenAsAnArgumentWithoutEchoingIt() throws Exception {
    fixture = CliFixture.start(dir, 0, null);

    CliFixture.Run run =
        fixture.run(args(List.of("vm-1.vms", "--ssh-password=hunter2"), fixture.cluster()));

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--ssh-password takes no value").doesNotContain("hunter2");
    assertThat(run.prompts()).isEmpty();
  }

  @Test
  void refusesAnUnknownHostKeyAndAcceptsItOnFirstUseWhenAsked() throws Exception {
    fixture = CliFixture.start(dir, 1, null);
    Path empty = Files.createFile(dir.resolve("empty_known_hosts"));

    CliFixture.Run strict =
        fixture.run(
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                List.of("-k", fixture.key, "--known-hosts", empty)));
    assertThat(strict.code()).as(strict.toString()).isEqualTo(1);
    assertThat(strict.out()).containsPattern("vms/vm-1 +FAILED .*host key");

    CliFixture.Run tofu =
        fixture.run(
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                List.of("-k", fixture.key, "--known-hosts", empty, "--trust-on-first-use")));
    assertThat(tofu.code()).as(tofu.toString()).isZero();
    assertThat(Files.readString(empty)).contains(fixture.vms.get(0).knownHostsLine().split(" ")[2]);

    CliFixture.Run again =
        fixture.run(
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                List.of("-k", fixture.key, "--known-hosts", empty)));
    assertThat(again.code()).as(again.toString()).isZero();
  }

  @Test
  void ignoreHostKeysWorksAndWarns() throws Exception {
    fixture = CliFixture.start(dir, 1, null);

    CliFixture.Run run =
        fixture.run(
            args(
                List.of("vm-1.vms"),
                fixture.cluster(),
                List.of("-k", fixture.key, "--ignore-host-keys")));

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.err()).contains("WARNING: --ignore-host-keys: host keys are not checked");
  }

  @Test
  void writesBundlesToADirectoryOrAnArchiveInsteadOfCopying() throws Exception {
    fixture = CliFixture.start(dir, 2, null);
    Path out = dir.resolve("bundles");
    Path archive = dir.resolve("bundles.tgz");

    CliFixture.Run toDir =
        fixture.run(args(List.of("-a", "-n", "vms", "-d", out), fixture.cluster()));
    CliFixture.Run toFile =
        fixture.run(
            args(
                List.of("vm-1.vms", "--output-file", archive, "--style", "systemd"),
                fixture.cluster()));

    assertThat(toDir.code()).as(toDir.toString()).isZero();
    assertThat(out.resolve("vm-1.vms/etc/sidecar.env")).exists();
    assertThat(out.resolve("vm-2.vms/bin/start-istio-proxy.sh")).isExecutable();
    assertThat(
            Files.getPosixFilePermissions(
                out.resolve("vm-2.vms/etc/" + ContainerBundleFactory.TOKEN)))
        .hasSize(2);
    assertThat(toFile.code()).as(toFile.toString()).isZero();
    assertThat(archive).exists();
    assertThat(toFile.out()).contains("owner-only: it holds tokens");
    for (EmbeddedVm vm : fixture.vms) {
      assertThat(vm.connectionsAccepted()).isZero();
    }
  }

  @Test
  void theBuiltInClusterHasSampleVmsToTry() {
    CliFixture.Run run =
        fixtureless("-a", "-n", "vmonboard-demo-secure", "--embedded-cluster", "--dry-run");

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out())
        .contains("plan for vmonboard-demo-secure/backend-vm on ec2-user@198.51.100.21:22")
        .contains("plan for vmonboard-demo-secure/frontend-vm")
        .contains("2 VMs: 2 succeeded, 0 failed");
  }

  @Test
  void docsPrintsTheAnnotationCatalogue() {
    CliFixture.Run run = fixtureless("--docs");

    assertThat(run.code()).isZero();
    assertThat(run.out())
        .contains("sidecar-bootstrap.istio.io/ssh-host\n  default: spec.address")
        .contains(dev.vmonboard.core.BootstrapAnnotation.catalogue());
  }

  private CliFixture.Run fixtureless(String... args) {
    try (CliFixture none = CliFixture.start(dir, 0, null)) {
      return none.run(args);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
