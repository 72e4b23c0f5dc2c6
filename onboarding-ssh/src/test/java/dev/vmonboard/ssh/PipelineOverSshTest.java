package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageResult;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The core pipeline with the SSH transport and the launchers, onboarding, refreshing tokens and
 * offboarding embedded VMs: one SSH connection and one exec channel per VM and run, shared by the
 * stages.
 */
class PipelineOverSshTest {

  @TempDir Path dir;

  static final BundleFactory BUNDLES =
      (workload, mesh) ->
          Bundle.builder()
              .workload(workload.ref())
              .addFiles(
                  BundleFile.of(
                      "sidecar.env",
                      0644,
                      ("POD_NAME=" + workload.name() + "\n").getBytes(StandardCharsets.UTF_8)))
              .addFiles(BundleFile.of("istio-ca.pem", 0644, Bundles.bytes("-----CERT-----\n")))
              .tokenPath(Bundles.TOKEN)
              .launch(
                  Bundles.containerLaunch()
                      .image(mesh.values().hub() + "/proxyv2:" + mesh.values().tag())
                      .build())
              .build();

  @Test
  void onboardsAndOffboardsAFleetWithOneConnectionPerVmAndRun() throws Exception {
    TestKeys.Key key = TestKeys.ed25519(dir);
    List<EmbeddedVm> vms = new ArrayList<>();
    InMemoryStages stages = InMemoryStages.create();
    try {
      List<WorkloadRef> refs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        vms.add(EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start());
        refs.add(register(stages, vms.get(i), "backend-" + i));
      }
      OnboardingPipeline pipeline =
          containerPipeline(stages, connector(key, vms), Clock.systemUTC());

      for (WorkloadRef ref : refs) {
        OnboardingResult result = pipeline.onboard(ref);
        assertThat(result.isSuccess()).as(String.valueOf(result)).isTrue();
        assertThat(result.proxyStatus().orElseThrow().isReady()).isTrue();
        Canary.assertAbsent("result", result.toString());
      }
      for (EmbeddedVm vm : vms) {
        assertThat(vm.connectionsAccepted()).isEqualTo(1);
        assertThat(vm.receivedCommands()).containsExactly("sh");
        assertThat(vm.containers()).containsEntry("istio-proxy", "running");
        assertThat(vm.root().resolve("etc/istio-proxy/tokens/istio-token")).exists();
        assertThat(vm.root().resolve("etc/istio-proxy-certs/root-cert.pem")).exists();
        Canary.assertAbsent("commands", vm.receivedCommands());
      }

      for (WorkloadRef ref : refs) {
        OnboardingResult gone = pipeline.offboard(ref);
        assertThat(gone.isSuccess()).as(String.valueOf(gone)).isTrue();
      }
      for (EmbeddedVm vm : vms) {
        assertThat(vm.connectionsAccepted()).isEqualTo(2);
        assertThat(vm.containers()).isEmpty();
        assertThat(vm.root().resolve("etc/istio-proxy")).doesNotExist();
        assertThat(vm.root().resolve("etc/istio-proxy-certs")).doesNotExist();
      }
    } finally {
      vms.forEach(EmbeddedVm::close);
    }
  }

  @Test
  void aTokenRefreshReachesTheRunningContainerThroughItsMountedDirectoryWithoutARestart()
      throws Exception {
    TestKeys.Key key = TestKeys.ed25519(dir);
    try (EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start()) {
      InMemoryStages stages = InMemoryStages.create();
      WorkloadRef ref = register(stages, vm, "backend-0");
      SshConnector ssh = connector(key, List.of(vm));
      assertThat(containerPipeline(stages, ssh, Clock.systemUTC()).onboard(ref).isSuccess())
          .isTrue();
      Path tokens = vm.root().resolve("etc/istio-proxy/tokens");
      Object mounted = Files.getAttribute(tokens, "unix:ino");
      String before = Files.readString(tokens.resolve("istio-token"));
      int callsBefore = vm.toolCalls().size();

      OnboardingResult refreshed = containerPipeline(stages, ssh, nearExpiry()).refreshToken(ref);

      assertThat(refreshed.isSuccess()).as(String.valueOf(refreshed)).isTrue();
      assertThat(refreshed.stages())
          .extracting(StageResult::stage)
          .contains(Stage.DELIVER_TOKEN)
          .doesNotContain(Stage.LAUNCH);
      String after = Files.readString(tokens.resolve("istio-token"));
      assertThat(after).isNotEqualTo(before);
      assertThat(after).isEqualTo(stages.tokenIssuer().issued().get(1).secret());
      assertThat(TestVm.mode(tokens.resolve("istio-token"))).isEqualTo(0600);
      assertThat(Files.getAttribute(tokens, "unix:ino"))
          .as("the mounted directory is the same one: the container sees the new file")
          .isEqualTo(mounted);
      List<List<String>> refreshCalls = vm.toolCalls().subList(callsBefore, vm.toolCalls().size());
      assertThat(refreshCalls)
          .as("no container restarted")
          .noneMatch(call -> call.size() > 1 && List.of("run", "rm").contains(call.get(1)));
      assertThat(vm.containers()).containsEntry("istio-proxy", "running");
      assertThat(vm.connectionsAccepted()).isEqualTo(2);
      assertThat(vm.receivedCommands()).containsExactly("sh", "sh");
      Canary.assertAbsent("result", refreshed.toString());
    }
  }

  @Test
  void aTokenRefreshReinstallsTheSystemdCopyWithoutARestart() throws Exception {
    TestKeys.Key key = TestKeys.ed25519(dir);
    try (EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start()) {
      InMemoryStages stages = InMemoryStages.create();
      WorkloadRef ref = register(stages, vm, "backend-0");
      Path installed = vm.root().resolve("var/run/secrets/tokens/istio-token");
      BundleFactory systemd = systemdBundles(vm.root(), installed);
      SshConnector ssh = connector(key, List.of(vm));
      assertThat(
              systemdPipeline(stages, systemd, ssh, Clock.systemUTC(), vm.root())
                  .onboard(ref)
                  .isSuccess())
          .isTrue();
      assertThat(installed).hasContent(stages.tokenIssuer().issued().get(0).secret());
      int callsBefore = vm.toolCalls().size();

      OnboardingResult refreshed =
          systemdPipeline(stages, systemd, ssh, nearExpiry(), vm.root()).refreshToken(ref);

      assertThat(refreshed.isSuccess()).as(String.valueOf(refreshed)).isTrue();
      assertThat(installed).hasContent(stages.tokenIssuer().issued().get(1).secret());
      assertThat(TestVm.mode(installed)).isEqualTo(0600);
      assertThat(installed.resolveSibling("istio-token.vmonboard-new")).doesNotExist();
      assertThat(vm.toolCalls().subList(callsBefore, vm.toolCalls().size()))
          .as("the service was not restarted")
          .noneMatch(call -> call.contains("systemctl"));
      assertThat(vm.unitActive("istio")).isTrue();
      Canary.assertAbsent("result", refreshed.toString());
    }
  }

  /** 55 minutes on: a one-hour token is within the ten-minute refresh margin. */
  private static Clock nearExpiry() {
    return Clock.offset(Clock.systemUTC(), Duration.ofMinutes(55));
  }

  private static OnboardingPipeline containerPipeline(
      InMemoryStages stages, SshConnector ssh, Clock clock) {
    return pipeline(stages, BUNDLES, clock)
        .transport(SshTransport.using(ssh))
        .launcher(
            ContainerProxyLauncher.builder(ssh)
                .readinessTimeout(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .build())
        .build();
  }

  private static OnboardingPipeline systemdPipeline(
      InMemoryStages stages, BundleFactory bundles, SshConnector ssh, Clock clock, Path fs) {
    return pipeline(stages, bundles, clock)
        .transport(SshTransport.using(ssh))
        .launcher(
            SystemdProxyLauncher.builder(ssh)
                // Records inside the test's directory: the default is this machine's /var/lib.
                .stateDirectory(fs.resolve("var/lib/vmonboard").toString())
                .sudo()
                .readinessTimeout(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .build())
        .build();
  }

  private static OnboardingPipeline.Builder pipeline(
      InMemoryStages stages, BundleFactory bundles, Clock clock) {
    return stages
        .pipelineBuilder(bundles, TestMeshes.typical())
        .tokenLifetime(Duration.ofHours(1))
        .tokenRefreshMargin(Duration.ofMinutes(10))
        .clock(clock);
  }

  /** The systemd style with every destination inside the VM's filesystem, owned by us. */
  private static BundleFactory systemdBundles(Path fs, Path installedToken) {
    String me = System.getProperty("user.name");
    return (workload, mesh) ->
        Bundle.builder()
            .workload(workload.ref())
            .addFiles(BundleFile.of("cluster.env", 0644, Bundles.bytes("A='b'\n")))
            .tokenPath("istio-token")
            .launch(
                SystemdLaunch.builder()
                    .addInstalls(
                        SystemdLaunch.FileInstall.builder()
                            .source("cluster.env")
                            .destination(fs.resolve("var/lib/istio/envoy/cluster.env").toString())
                            .owner(me)
                            .group(me)
                            .mode(0644)
                            .build(),
                        SystemdLaunch.FileInstall.builder()
                            .source("istio-token")
                            .destination(installedToken.toString())
                            .owner(me)
                            .group(me)
                            .mode(0600)
                            .build())
                    .build())
            .build();
  }

  private static WorkloadRef register(InMemoryStages stages, EmbeddedVm vm, String name) {
    WorkloadRef ref = WorkloadRef.of("vm-ns", name);
    stages
        .registrar()
        .add(
            Workload.builder(ref)
                .address("127.0.0.1")
                .serviceAccount("vm-sa")
                .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), Integer.toString(vm.port()))
                .putAnnotations(
                    BootstrapAnnotation.PROXY_CONFIG_DIR.key(),
                    vm.root().resolve("etc/istio-proxy").toString())
                .build());
    return ref;
  }

  private SshConnector connector(TestKeys.Key key, List<EmbeddedVm> vms) throws Exception {
    List<String> lines = vms.stream().map(EmbeddedVm::knownHostsLine).toList();
    return SshConnector.builder()
        .identity(key.identity())
        .hostKeyPolicy(HostKeyPolicy.knownHosts(Files.write(dir.resolve("known_hosts"), lines)))
        .build();
  }
}
