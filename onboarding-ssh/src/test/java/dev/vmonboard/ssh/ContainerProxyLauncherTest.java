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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery plus the container launcher's start, verify, status and removal on an embedded VM. */
class ContainerProxyLauncherTest {

  /** The name under which a launch keeps the old container. */
  private static final String KEPT = "istio-proxy-vmonboard-previous";

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

  /** A new target on {@code vm} to which {@code bundle} has been delivered. */
  private Target delivered(TestVm vm, Bundle bundle) {
    Target target = vm.newTarget();
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    return target;
  }

  /** A VM to which v1 was delivered and on which {@code launcher} started its container. */
  private record Running(
      TestVm vm, Bundle bundle, Target target, ContainerProxyLauncher launcher) {}

  private Running running(UnaryOperator<ContainerProxyLauncher.Builder> options) throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    ContainerProxyLauncher launcher = options.apply(launcher(vm)).build();
    launcher.launch(bundle, target, context());
    return new Running(vm, bundle, target, launcher);
  }

  private static ContainerProxyLauncher.Builder launcher(TestVm vm) {
    return ContainerProxyLauncher.builder(vm.connector)
        .readinessTimeout(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(100));
  }

  @Test
  void dropsWhatAnUpdateSetAsideAndSpendsNoRoundTripWhenAFirstStartSetNothingAside()
      throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.CURL);
    Target target = vm.newTarget();
    SshTransport transport = SshTransport.using(vm.connector);
    ContainerProxyLauncher launcher = launcher(vm).build();
    Bundle first = Bundles.container("v1");
    Bundle update = Bundles.container("v2");

    StageContext.Standalone firstRun = context();
    transport.deliver(first, target, firstRun);
    launcher.launch(first, target, firstRun);
    transport.discardPrevious(target, firstRun);
    launcher.discardPrevious(first, target, firstRun);
    assertThat(VmSession.of(vm.connector, target, firstRun).scriptsRun())
        .as("delivery and launch only: nothing was set aside, so nothing is dropped")
        .isEqualTo(2);

    StageContext.Standalone updateRun = context();
    transport.deliver(update, target, updateRun);
    launcher.launch(update, target, updateRun);
    assertThat(vm.vm.containers()).containsKey(KEPT);
    Path configDir = Path.of(target.configDir());
    assertThat(
            configDir
                .resolveSibling("." + configDir.getFileName() + ".vmonboard")
                .resolve("previous"))
        .isDirectory();
    transport.discardPrevious(target, updateRun);
    launcher.discardPrevious(update, target, updateRun);
    assertThat(VmSession.of(vm.connector, target, updateRun).scriptsRun()).isEqualTo(4);
    assertThat(vm.vm.containers()).containsOnlyKeys("istio-proxy");
    assertThat(
            configDir
                .resolveSibling("." + configDir.getFileName() + ".vmonboard")
                .resolve("previous"))
        .doesNotExist();
  }

  @Test
  void deliversStartsVerifiesAndRemovesInOneConnectionAndOneChannel() throws Exception {
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
    assertThat(session.channelsOpened()).isEqualTo(1);
    assertThat(vm.vm.receivedCommands()).containsExactly("sh");
    assertThat(vm.vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
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
  void keepsARunningOldContainerStoppedAsideUntilItIsDiscarded() throws Exception {
    Running p = running(b -> b);
    p.launcher().launch(p.bundle(), p.target(), context());
    assertThat(p.vm().vm.containers())
        .containsExactly(Map.entry("istio-proxy", "running"), Map.entry(KEPT, "exited"));
    assertThat(p.vm().vm.toolCalls())
        .containsSubsequence(
            List.of("docker", "stop", "istio-proxy"),
            List.of("docker", "rename", "istio-proxy", KEPT),
            runCall(p.vm()));

    p.launcher().discardPrevious(p.bundle(), p.target(), context());
    p.launcher().discardPrevious(p.bundle(), p.target(), context());

    assertThat(p.vm().vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
  }

  @Test
  void reportsAnOldContainerThatCannotBeStoppedAndLeavesItRunning() throws Exception {
    Running p = running(b -> b);
    p.vm().vm.containerResistsRemoval("istio-proxy");
    assertThatThrownBy(() -> p.launcher().launch(p.bundle(), p.target(), context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 31")
        .hasMessageContaining("cannot stop the old container istio-proxy")
        .hasMessageContaining("permission denied");
    assertThat(p.vm().vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
  }

  @Test
  void aFirstStartRemovesNothingAndRunsOnce() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    launcher(vm).build().launch(bundle, target, context());
    assertThat(vm.vm.toolCalls())
        .extracting(call -> call.get(0) + " " + call.get(1))
        .containsExactly("docker run", "docker inspect", "curl -fsS");
  }

  @Test
  void anUpdateWhoseContainerDiesIsRolledBackToTheOldContainer() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.newTarget();
    SshTransport transport = SshTransport.using(vm.connector);
    ContainerProxyLauncher launcher = launcher(vm).build();
    StageContext.Standalone run = context();
    transport.deliver(Bundles.container("v1"), target, run);
    launcher.launch(Bundles.container("v1"), target, run);
    vm.vm.containerExitsAtOnce("istio-proxy");
    Bundle v2 = Bundles.container("v2");
    transport.deliver(v2, target, run);
    assertThatThrownBy(() -> launcher.launch(v2, target, run))
        .hasMessageContaining("container istio-proxy is exited (exit code 1)");
    assertThat(vm.vm.containers())
        .containsExactly(Map.entry("istio-proxy", "exited"), Map.entry(KEPT, "exited"));

    assertThat(transport.restorePrevious(target, run)).isTrue();
    assertThat(launcher.restorePrevious(v2, target, run)).isTrue();

    assertThat(vm.vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
    assertThat(vm.vm.toolCalls())
        .containsSubsequence(
            List.of("docker", "rm", "-f", "istio-proxy"),
            List.of("docker", "rename", KEPT, "istio-proxy"),
            List.of("docker", "start", "istio-proxy"));
    assertThat(vm.vm.toolCalls().stream().filter(c -> c.get(1).equals("run")))
        .as(
            "v1's run, v2's run refused while v1 held the name, v2's run again; the restore runs none")
        .hasSize(3);
    assertThat(Path.of(target.configDir() + Bundles.CERTS_SUFFIX).resolve("root-cert.pem"))
        .as("the seed of the restored bundle is copied in again")
        .hasContent("-----CERT v1-----");
    assertThat(launcher.status(v2, target, run).state()).isEqualTo(ProxyStatus.State.READY);
    assertThat(launcher.restorePrevious(v2, target, run)).as("nothing kept any more").isFalse();
    assertThat(VmSession.of(vm.connector, target, run).channelsOpened()).isEqualTo(1);
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void aRetriedLaunchKeepsTheContainerTheFirstAttemptSetAside() throws Exception {
    Running p = running(b -> b);
    p.vm().vm.containerExitsAtOnce("istio-proxy");
    for (int attempt = 0; attempt < 2; attempt++) {
      assertThatThrownBy(() -> p.launcher().launch(p.bundle(), p.target(), context()))
          .hasMessageContaining("exit code 34");
    }
    assertThat(p.vm().vm.containers()).containsEntry(KEPT, "exited");

    assertThat(p.launcher().restorePrevious(p.bundle(), p.target(), context())).isTrue();

    assertThat(p.vm().vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
  }

  @Test
  void reportsAPreviousContainerThatDoesNotGetReadyAgain() throws Exception {
    Running p = running(b -> b.readinessTimeout(Duration.ofSeconds(1)));
    p.vm().vm.neverReady();
    assertThatThrownBy(() -> p.launcher().launch(p.bundle(), p.target(), context()))
        .hasMessageContaining("exit code 35");

    assertThatThrownBy(() -> p.launcher().restorePrevious(p.bundle(), p.target(), context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("restore the previous proxy container istio-proxy")
        .hasMessageContaining("exit code 35")
        .hasMessageContaining("did not answer ready within 1 s");
    assertThat(p.vm().vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
  }

  @Test
  void removeAlsoRemovesAKeptContainer() throws Exception {
    Running p = running(b -> b);
    p.launcher().launch(p.bundle(), p.target(), context());
    assertThat(p.vm().vm.containers()).containsKey(KEPT);

    p.launcher().remove(p.bundle(), p.target(), context());

    assertThat(p.vm().vm.containers()).isEmpty();
  }

  @Test
  void pollsUntilReadyWithWgetWhenTheVmHasNoCurl() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.WGET);
    vm.vm.readyAfterProbes(3);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    ProxyStatus status = launcher(vm).build().launch(bundle, target, context());
    assertThat(status.detail()).contains("ready after 4 probe(s)");
    assertThat(vm.vm.toolCalls().stream().filter(c -> c.get(0).equals("wget"))).hasSize(4);
  }

  @Test
  void runsPodmanThroughSudo() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    launcher(vm).podman().sudo().build().launch(bundle, target, context());
    assertThat(vm.vm.toolCalls())
        .anyMatch(
            c ->
                c.subList(0, Math.min(4, c.size())).equals(List.of("sudo", "-n", "podman", "run")));
    assertThat(vm.vm.toolCalls()).noneMatch(c -> c.get(0).equals("docker"));
  }

  @Test
  void reportsAContainerThatExitsAtOnceWithItsExitCodeAndLogsAndHasNoOldOneToRestore()
      throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.containerExitsAtOnce("istio-proxy");
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    ContainerProxyLauncher launcher = launcher(vm).build();
    assertThatThrownBy(() -> launcher.launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("start the proxy container istio-proxy for ns/vm-1 on ")
        .hasMessageContaining("exit code 34")
        .hasMessageContaining("container istio-proxy is exited (exit code 1)")
        .hasMessageContaining("exited at once")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isFalse());
    int calls = vm.vm.toolCalls().size();

    assertThat(launcher.restorePrevious(bundle, target, context())).isFalse();

    assertThat(vm.vm.toolCalls().subList(calls, vm.vm.toolCalls().size()))
        .as("a first launch kept nothing: restoring only looks")
        .extracting(call -> call.get(0) + " " + call.get(1))
        .containsExactly("docker inspect");
    assertThat(vm.vm.containers()).containsExactly(Map.entry("istio-proxy", "exited"));
  }

  @Test
  void failsWhenTheProxyNeverGetsReady() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.neverReady();
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
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
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .hasMessageContaining("neither curl nor wget");
    assertThat(vm.vm.toolCalls()).noneMatch(c -> c.get(0).equals("docker"));
  }

  @Test
  void reportsTheRuntimeExitCodeAndStderrWhenRunFails() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    // A mount source gone: the runtime refuses it, as docker does.
    Path tokens = Path.of(target.configDir(), Bundles.TOKEN_DIRECTORY);
    Files.delete(tokens.resolve("istio-token"));
    Files.delete(tokens);
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 32")
        .hasMessageContaining("docker run exited with code 125")
        .hasMessageContaining("bind source path does not exist");
  }

  @Test
  void anUpdateWhoseRunFailsReportsThatRunAndLeavesTheOldContainerToRestore() throws Exception {
    Running p = running(b -> b);
    Path tokens = Path.of(p.target().configDir(), Bundles.TOKEN_DIRECTORY);
    Files.delete(tokens.resolve("istio-token"));
    Files.delete(tokens);
    StageContext.Standalone update = context();
    int before = p.vm().vm.toolCalls().size();
    assertThatThrownBy(() -> p.launcher().launch(p.bundle(), p.target(), update))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 32")
        .hasMessageContaining("docker run exited with code 125")
        .hasMessageContaining("bind source path does not exist");
    assertThat(p.vm().vm.toolCalls().subList(before, p.vm().vm.toolCalls().size()))
        .as("the run, refused; then the old container set aside; then the run again")
        .extracting(call -> call.get(0) + " " + call.get(1))
        .containsExactly(
            "docker run",
            "docker inspect",
            "docker rm",
            "docker stop",
            "docker rename",
            "docker run");
    assertThat(p.vm().vm.containers()).containsExactly(Map.entry(KEPT, "exited"));

    Files.createDirectory(tokens);
    Files.writeString(tokens.resolve("istio-token"), "t");
    assertThat(p.launcher().restorePrevious(p.bundle(), p.target(), update)).isTrue();
    assertThat(p.vm().vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
  }

  @Test
  void abandonsALaunchThatOutlivesTheStageDeadline() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    vm.vm.neverReady();
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
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
      // Well before the 60 s the readiness wait would take (not a timing bound: the machine is
      // shared, and connecting alone can take seconds under load).
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }
  }

  @Test
  void preparesTheCertificateDirectoryOwnerOnlyBeforeTheRunAndDeletesItOnRemove() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.newTarget();
    Bundle bundle = Bundles.container("v1");
    StageContext.Standalone run = context();
    SshTransport.using(vm.connector).deliver(bundle, target, run);
    ContainerProxyLauncher launcher = launcher(vm).build();

    launcher.launch(bundle, target, run);

    Path certs = Path.of(target.configDir() + Bundles.CERTS_SUFFIX);
    assertThat(TestVm.mode(certs)).isEqualTo(0700);
    assertThat(certs.resolve("root-cert.pem")).hasContent("-----CERT v1-----");
    assertThat(runCall(vm)).contains("-v", certs + ":/var/run/secrets/istio");
    Files.writeString(certs.resolve("cert-chain.pem"), "renewed by the agent");
    Bundle v2 = Bundles.container("v2");
    SshTransport.using(vm.connector).deliver(v2, target, run);
    launcher.launch(v2, target, run);
    assertThat(certs.resolve("root-cert.pem"))
        .as("the seed is copied in again before every start")
        .hasContent("-----CERT v2-----");
    assertThat(certs.resolve("cert-chain.pem")).hasContent("renewed by the agent");

    launcher.remove(bundle, target, run);
    assertThat(certs).doesNotExist();
    assertThat(Path.of(target.configDir())).as("the bundle is the transport's").isDirectory();
    assertThat(VmSession.of(vm.connector, target, run).channelsOpened()).isEqualTo(1);
  }

  @Test
  void reportsAHostDirectoryItCannotCreateAndLeavesTheOldContainerAlone() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Bundle bundle = Bundles.container("v1");
    Target target = delivered(vm, bundle);
    // A file where the directory goes is refused as something vmonboard did not make (exit code
    // 20, as for every path planted by someone else), not written through or replaced.
    Files.writeString(Path.of(target.configDir() + Bundles.CERTS_SUFFIX), "not a directory");
    assertThatThrownBy(() -> launcher(vm).build().launch(bundle, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("not a directory")
        .satisfies(
            e -> assertThat(((StageException) e).hint().orElseThrow()).contains("may create"));
    assertThat(vm.vm.toolCalls()).noneMatch(c -> c.get(0).equals("docker"));
  }

  @Test
  void describesThePreparationAndTheRemovalOfTheHostDirectory() throws Exception {
    TestVm vm = vm(EmbeddedVm.HttpClient.BOTH);
    Target target = vm.target("/srv/istio proxy/");
    ContainerProxyLauncher launcher = launcher(vm).build();
    Bundle bundle = Bundles.container("v1");
    assertThat(launcher.describeLaunch(bundle, target))
        .containsSubsequence(
            "  create '/srv/istio proxy-certs' (0700, recorded as vmonboard's; an existing one"
                + " only if vmonboard made it) and rename into it, never writing through what is"
                + " there: root-cert.pem",
            "  if that fails and istio-proxy exists: if it runs, docker stop istio-proxy and"
                + " rename it istio-proxy-vmonboard-previous (kept for a rollback), else docker"
                + " rm -f istio-proxy; then run again")
        .anyMatch(line -> line.contains("'/srv/istio proxy/tokens:/var/run/secrets/tokens:ro'"));
    assertThat(launcher.describeRemoval(bundle, target))
        .containsExactly(
            "ssh 127.0.0.1:"
                + vm.vm.port()
                + ": docker rm -f istio-proxy istio-proxy-vmonboard-previous (if present)",
            "  rm -rf -- '/srv/istio proxy-certs' (only if vmonboard recorded making it)");
    Canary.assertAbsent("plans", launcher.describeLaunch(bundle, target));
    assertThat(vm.vm.receivedCommands()).isEmpty();
  }

  private static List<String> runCall(TestVm vm) {
    return vm.vm.toolCalls().stream()
        .filter(c -> c.size() > 1 && c.get(0).equals("docker") && c.get(1).equals("run"))
        .reduce((a, b) -> b)
        .orElseThrow();
  }
}
