package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.testing.Canary;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery plus the container launcher's start, verify, status and removal on an embedded VM. */
class ContainerProxyLauncherTest {

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private TestVm vm(EmbeddedVm.HttpClient http) throws Exception {
    TestVm vm = new TestVm(dir, http);
    open.add(vm);
    return vm;
  }

  private StageContext.Standalone context() {
    StageContext.Standalone context = TestVm.context(Stage.LAUNCH);
    open.add(0, context);
    return context;
  }

  private static ContainerProxyLauncher.Builder launcher(TestVm vm) {
    return ContainerProxyLauncher.builder(vm.connector)
        .readinessTimeout(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(100));
  }

  @Test
  void deliversStartsVerifiesAndRemovesInOneConnectionAndTwoChannels() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.CURL);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    ContainerProxyLauncher launcher = launcher(vm).build();
    StageContext.Standalone run = context();

    SshTransport.using(vm.connector).deliver(bundle, target, run);
    ProxyStatus status = launcher.launch(bundle, target, run);

    assertThat(status.isReady()).isTrue();
    VmSession session = VmSession.of(vm.connector, target, run);
    assertThat(session.connectionsOpened()).isEqualTo(1);
    assertThat(session.channelsOpened()).isEqualTo(2);
    assertThat(vm.vm.containers()).containsExactly(java.util.Map.entry("istio-proxy", "running"));
    List<String> run1 = runCall(vm);
    assertThat(run1.subList(1, run1.size()))
        .isEqualTo(
            ((dev.vmonboard.core.ContainerLaunch) bundle.launch())
                .runArguments(target.configDir()));
    assertThat(vm.vm.toolCalls()).anyMatch(call -> call.get(0).equals("curl"));

    assertThat(launcher.status(bundle, target, run).state()).isEqualTo(ProxyStatus.State.READY);
    launcher.remove(bundle, target, run);
    assertThat(vm.vm.containers()).isEmpty();
    assertThat(launcher.status(bundle, target, run).state()).isEqualTo(ProxyStatus.State.ABSENT);
    launcher.remove(bundle, target, run);
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void createsAndSeedsTheCertificateDirectoryBeforeStartingAndDeletesItOnRemoval()
      throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.CURL);
    Target target = vm.newTarget();
    Bundle bundle =
        Bundles.bundle(
            "v1",
            Bundles.containerLaunch()
                .addHostDirectories(
                    dev.vmonboard.core.ContainerLaunch.HostDirectory.of(
                        "-certs",
                        "/var/run/secrets/istio",
                        java.util.Map.of("istio-ca.pem", "root-cert.pem")))
                .build());
    ContainerProxyLauncher launcher = launcher(vm).build();
    Path certs = Path.of(target.configDir() + "-certs");

    SshTransport.using(vm.connector).deliver(bundle, target, context());
    assertThat(launcher.launch(bundle, target, context()).isReady()).isTrue();

    assertThat(java.nio.file.Files.getPosixFilePermissions(certs))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    assertThat(certs.resolve("root-cert.pem")).hasContent("-----CERT v1-----");
    assertThat(runCall(vm)).contains(certs + ":/var/run/secrets/istio");
    assertThat(launcher.describeLaunch(bundle, target))
        .anyMatch(line -> line.contains("mkdir -p -m 0700 " + certs));

    launcher.remove(bundle, target, context());
    assertThat(certs).doesNotExist();
    assertThat(launcher.describeRemoval(bundle, target))
        .anyMatch(line -> line.contains("rm -rf -- " + certs));
  }

  @Test
  void replacesAnOldContainerOfTheSameName() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    ContainerProxyLauncher launcher = launcher(vm).build();
    launcher.launch(bundle, target, context());
    launcher.launch(bundle, target, context());
    assertThat(vm.vm.containers()).hasSize(1);
    assertThat(vm.vm.toolCalls()).contains(List.of("docker", "rm", "-f", "istio-proxy"));
  }

  @Test
  void pollsUntilReadyWithWgetWhenTheVmHasNoCurl() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.WGET);
    vm.vm.readyAfterProbes(3);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    ProxyStatus status = launcher(vm).build().launch(bundle, target, context());
    assertThat(status.detail()).contains("ready after 4 probe(s)");
    assertThat(vm.vm.toolCalls().stream().filter(c -> c.get(0).equals("wget"))).hasSize(4);
  }

  @Test
  void runsPodmanThroughSudo() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    launcher(vm).podman().sudo().build().launch(bundle, target, context());
    assertThat(vm.vm.toolCalls())
        .anyMatch(
            c ->
                c.subList(0, Math.min(4, c.size())).equals(List.of("sudo", "-n", "podman", "run")));
    assertThat(vm.vm.toolCalls()).noneMatch(c -> c.get(0).equals("docker"));
  }

  @Test
  void reportsAContainerThatExitsAtOnceWithItsExitCodeAndLogs() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.containerExitsAtOnce("istio-proxy");
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("start the proxy container istio-proxy for ns/vm-1 on ")
        .hasMessageContaining("exit code 34")
        .hasMessageContaining("container istio-proxy is exited (exit code 1)")
        .hasMessageContaining("exited at once")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isFalse());
  }

  @Test
  void failsWhenTheProxyNeverGetsReady() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.neverReady();
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    assertThatThrownBy(
            () ->
                launcher(vm)
                    .readinessTimeout(Duration.ofSeconds(1))
                    .build()
                    .launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 35")
        .hasMessageContaining("did not answer ready within 1 s")
        .satisfies(e -> assertThat(((StageException) e).hint()).isPresent());
  }

  @Test
  void refusesToStartWithoutAWayToCheckReadinessAndLeavesTheOldProxyAlone() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.NONE);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .hasMessageContaining("neither curl nor wget");
    assertThat(vm.vm.toolCalls()).noneMatch(c -> c.get(0).equals("docker"));
  }

  @Test
  void reportsTheRuntimeExitCodeAndStderrWhenRunFails() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    // Not delivered: the runtime refuses the missing env file, as docker does.
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 32")
        .hasMessageContaining("docker run exited with code 125")
        .hasMessageContaining("bind source path does not exist");
  }

  @Test
  void abandonsALaunchThatOutlivesTheStageDeadline() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.neverReady();
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    try (StageContext.Standalone shortStage =
        StageContext.standalone(
            dev.vmonboard.core.WorkloadRef.of("ns", "vm-1"), Stage.LAUNCH, Duration.ofSeconds(1))) {
      long start = System.nanoTime();
      assertThatThrownBy(
              () ->
                  launcher(vm)
                      .readinessTimeout(Duration.ofSeconds(60))
                      .build()
                      .launch(bundle, target, shortStage))
          .isInstanceOf(StageException.class)
          .hasMessageContaining("no answer within")
          .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue());
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
  }

  private static List<String> runCall(TestVm vm) {
    return vm.vm.toolCalls().stream()
        .filter(c -> c.size() > 1 && c.get(0).equals("docker") && c.get(1).equals("run"))
        .reduce((a, b) -> b)
        .orElseThrow();
  }
}
