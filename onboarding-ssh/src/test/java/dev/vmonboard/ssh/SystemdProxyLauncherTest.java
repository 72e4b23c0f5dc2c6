package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The systemd launcher against the embedded VM's stand-in systemctl. */
class SystemdProxyLauncherTest {

  @TempDir Path dir;
  TestVm vm;
  Path fs;
  StageContext.Standalone run;

  @BeforeEach
  void start() throws Exception {
    vm = TestVm.start(dir);
    fs = vm.vm.root();
    run = TestVm.context(Stage.LAUNCH);
  }

  @AfterEach
  void stop() {
    run.close();
    vm.close();
  }

  /** Istio's flow, with every destination inside the VM's filesystem and owned by us. */
  Bundle bundle() {
    return bundle("v1");
  }

  /** {@link #bundle()} with {@code version} in its {@code cluster.env}. */
  Bundle bundle(String version) {
    String me = System.getProperty("user.name");
    SystemdLaunch.Builder launch = SystemdLaunch.builder();
    for (String[] install :
        new String[][] {
          {"cluster.env", "var/lib/istio/envoy/cluster.env", "0644"},
          {"mesh.yaml", "etc/istio/config/mesh", "0644"},
          {"root-cert.pem", "etc/certs/root-cert.pem", "0644"},
          {"istio-token", "var/run/secrets/tokens/istio-token", "0600"}
        }) {
      launch.addInstalls(
          SystemdLaunch.FileInstall.builder()
              .source(install[0])
              .destination(fs.resolve(install[1]).toString())
              .owner(me)
              .group(me)
              .mode(Integer.parseInt(install[2], 8))
              .build());
    }
    launch.addInstalls(
        SystemdLaunch.FileInstall.builder()
            .source("hosts")
            .destination(fs.resolve("etc/hosts").toString())
            .mode(0644)
            .append(true)
            .build());
    return Bundle.builder()
        .workload(WorkloadRef.of("ns", "vm-1"))
        .addFiles(
            BundleFile.of(
                "cluster.env",
                0644,
                Bundles.bytes("ISTIO_SERVICE='vm.ns'\nVERSION=" + version + "\n")))
        .addFiles(BundleFile.of("mesh.yaml", 0644, Bundles.bytes("defaultConfig: {}\n")))
        .addFiles(BundleFile.of("root-cert.pem", 0644, Bundles.bytes("-----CERT-----\n")))
        .addFiles(BundleFile.of("hosts", 0644, Bundles.bytes("10.0.0.1 istiod.istio-system.svc\n")))
        .tokenPath("istio-token")
        .launch(launch.build())
        .build()
        .withToken(BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.now().plusSeconds(60)));
  }

  SystemdProxyLauncher launcher() {
    return SystemdProxyLauncher.builder(vm.connector)
        .stateDirectory(fs.resolve("var/lib/vmonboard").toString())
        .sudo()
        .readinessTimeout(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .build();
  }

  @Test
  void installsFilesStartsTheServiceVerifiesAndOffboards() throws Exception {
    Files.createDirectories(fs.resolve("etc"));
    Files.writeString(fs.resolve("etc/hosts"), "127.0.0.1 localhost\n");
    Target target = vm.newTarget();
    Bundle bundle = bundle();
    SshTransport.using(vm.connector).deliver(bundle, target, run);

    ProxyStatus status = launcher().launch(bundle, target, run);

    assertThat(status.isReady()).isTrue();
    assertThat(vm.vm.unitActive("istio")).isTrue();
    assertThat(vm.vm.unitEnabled("istio")).isTrue();
    Path token = fs.resolve("var/run/secrets/tokens/istio-token");
    assertThat(token).content().startsWith(Canary.SECRET);
    assertThat(TestVm.mode(token)).isEqualTo(0600);
    assertThat(TestVm.mode(fs.resolve("var/lib/istio/envoy/cluster.env"))).isEqualTo(0644);
    assertThat(vm.vm.toolCalls())
        .contains(List.of("sudo", "-n", "systemctl", "enable", "--now", "istio"));

    launcher().launch(bundle, target, run);
    assertThat(vm.vm.toolCalls()).contains(List.of("systemctl", "restart", "istio"));
    assertThat(fs.resolve("etc/hosts"))
        .hasContent("127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc");
    assertThat(launcher().status(bundle, target, run).state()).isEqualTo(ProxyStatus.State.READY);

    launcher().remove(bundle, target, run);
    assertThat(vm.vm.unitActive("istio")).isFalse();
    assertThat(vm.vm.unitEnabled("istio")).isFalse();
    assertThat(token).doesNotExist();
    assertThat(fs.resolve("etc/hosts")).hasContent("127.0.0.1 localhost");
    assertThat(launcher().status(bundle, target, run).state()).isEqualTo(ProxyStatus.State.STOPPED);
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void restoresThePreviousBundlesFilesAndRestartsTheServiceWithThem() throws Exception {
    Target target = vm.newTarget();
    SshTransport transport = SshTransport.using(vm.connector);
    SystemdProxyLauncher launcher =
        SystemdProxyLauncher.builder(vm.connector)
            .stateDirectory(fs.resolve("var/lib/vmonboard").toString())
            .sudo()
            .readinessTimeout(Duration.ofSeconds(1))
            .pollInterval(Duration.ofMillis(100))
            .build();
    transport.deliver(bundle("v1"), target, run);
    launcher.launch(bundle("v1"), target, run);
    Path clusterEnv = fs.resolve("var/lib/istio/envoy/cluster.env");
    assertThat(clusterEnv).content().contains("VERSION=v1");
    // The updated service answers none of the 10 probes of its launch; the next probe is ready.
    long probes = vm.vm.toolCalls().stream().filter(c -> c.get(0).equals("curl")).count();
    vm.vm.readyAfterProbes((int) probes + 10);
    Bundle v2 = bundle("v2");
    transport.deliver(v2, target, run);
    assertThatThrownBy(() -> launcher.launch(v2, target, run)).hasMessageContaining("exit code 35");
    assertThat(clusterEnv).content().contains("VERSION=v2");

    assertThat(transport.restorePrevious(target, run)).isTrue();
    assertThat(launcher.restorePrevious(v2, target, run)).isTrue();

    assertThat(clusterEnv).content().contains("VERSION=v1");
    assertThat(TestVm.mode(fs.resolve("var/run/secrets/tokens/istio-token"))).isEqualTo(0600);
    assertThat(vm.vm.unitActive("istio")).isTrue();
    assertThat(launcher.status(v2, target, run).state()).isEqualTo(ProxyStatus.State.READY);
    launcher.discardPrevious(v2, target, run);
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void reportsAMissingBundleFile() {
    Target target = vm.newTarget();
    assertThatThrownBy(() -> launcher().launch(bundle(), target, run))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 41")
        .hasMessageContaining("cluster.env is not in the delivered bundle")
        .satisfies(
            e ->
                assertThat(((StageException) e).hint().orElseThrow())
                    .contains("deliver the bundle"));
  }

  @Test
  void refusesAContainerBundle() {
    assertThatThrownBy(() -> launcher().launch(Bundles.container("v1"), vm.newTarget(), run))
        .hasMessageContaining("SystemdProxyLauncher cannot start");
  }
}
