package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The core pipeline with the SSH transport and container launcher, onboarding and offboarding a
 * small fleet of embedded VMs: one SSH connection per VM and run, shared by both stages.
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
              .tokenPath("istio-token")
              .launch(
                  Bundles.containerLaunch()
                      .image(mesh.values().hub() + "/proxyv2:" + mesh.values().tag())
                      .build())
              .build();

  @Test
  void onboardsAndOffboardsAFleetWithOneConnectionPerVmAndRun() throws Exception {
    TestKeys.Key key = TestKeys.ed25519(dir);
    List<EmbeddedVm> vms = new ArrayList<>();
    List<String> knownHosts = new ArrayList<>();
    InMemoryStages stages = InMemoryStages.create();
    try {
      for (int i = 0; i < 3; i++) {
        EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start();
        vms.add(vm);
        knownHosts.add(vm.knownHostsLine());
        stages
            .registrar()
            .add(
                Workload.builder(WorkloadRef.of("vm-ns", "backend-" + i))
                    .address("127.0.0.1")
                    .serviceAccount("vm-sa")
                    .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), Integer.toString(vm.port()))
                    .putAnnotations(
                        BootstrapAnnotation.PROXY_CONFIG_DIR.key(),
                        vm.root().resolve("etc/istio-proxy").toString())
                    .build());
      }
      SshConnector ssh =
          SshConnector.builder()
              .identity(key.identity())
              .hostKeyPolicy(
                  HostKeyPolicy.knownHosts(Files.write(dir.resolve("known_hosts"), knownHosts)))
              .build();
      OnboardingPipeline pipeline =
          stages
              .pipelineBuilder(BUNDLES, TestMeshes.typical())
              .transport(SshTransport.using(ssh))
              .launcher(
                  ContainerProxyLauncher.builder(ssh)
                      .readinessTimeout(Duration.ofSeconds(10))
                      .pollInterval(Duration.ofMillis(100))
                      .build())
              .build();

      for (int i = 0; i < vms.size(); i++) {
        OnboardingResult result = pipeline.onboard(WorkloadRef.of("vm-ns", "backend-" + i));
        assertThat(result.isSuccess()).as(String.valueOf(result)).isTrue();
        assertThat(result.proxyStatus().orElseThrow().isReady()).isTrue();
        Canary.assertAbsent("result", result.toString());
      }
      for (EmbeddedVm vm : vms) {
        assertThat(vm.connectionsAccepted()).isEqualTo(1);
        assertThat(vm.receivedCommands()).hasSize(2);
        assertThat(vm.containers()).containsEntry("istio-proxy", "running");
        assertThat(vm.root().resolve("etc/istio-proxy/istio-token")).exists();
        Canary.assertAbsent("commands", vm.receivedCommands());
      }

      for (int i = 0; i < vms.size(); i++) {
        OnboardingResult gone = pipeline.offboard(WorkloadRef.of("vm-ns", "backend-" + i));
        assertThat(gone.isSuccess()).as(String.valueOf(gone)).isTrue();
      }
      for (EmbeddedVm vm : vms) {
        assertThat(vm.connectionsAccepted()).isEqualTo(2);
        assertThat(vm.containers()).isEmpty();
        assertThat(vm.root().resolve("etc/istio-proxy")).doesNotExist();
      }
    } finally {
      vms.forEach(EmbeddedVm::close);
    }
  }
}
