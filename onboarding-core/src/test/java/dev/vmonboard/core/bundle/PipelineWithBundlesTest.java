package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The factories and the offline transports inside the real pipeline (in-memory registrar and token
 * issuer): a fleet lands in a directory and in an archive, a bad workload fails alone naming its
 * annotation, a dry run writes nothing, offboarding removes the layout, and no output carries the
 * token.
 */
class PipelineWithBundlesTest {

  @TempDir Path temp;

  private final InMemoryStages stages = InMemoryStages.create();
  private final Workload first = BundleFixtures.networkAppStats();
  private final Workload second = BundleFixtures.concurrency();
  private final Workload broken =
      Workload.builder(WorkloadRef.of(BundleFixtures.NAMESPACE, "broken-vm"))
          .address("10.0.0.7")
          .serviceAccount("backend-sa")
          .putAnnotations("sidecar.istio.io/interceptionMode", "NONE\nEVIL=1")
          .build();

  @Test
  void aFleetLandsInOneDirectoryAndABadWorkloadFailsAlone() throws IOException {
    Path root = temp.resolve("fleet");
    FleetResult result = onboard(LocalDirectoryTransport.perWorkload(root));
    assertThat(result.successCount()).isEqualTo(2);
    OnboardingResult failed = result.failures().get(0);
    assertThat(failed.workload()).isEqualTo(broken.ref());
    assertThat(failed.failedStage()).contains(Stage.PREPARE);
    assertThat(failed.failure().orElseThrow())
        .hasMessageContaining("sidecar.istio.io/interceptionMode")
        .hasMessageContaining(broken.ref().toString());
    Path token = root.resolve("backend-vm-1.vm-apps/etc/tokens/istio-token");
    assertThat(Files.readString(token)).startsWith(Canary.SECRET);
    assertThat(LocalFiles.mode(token)).isEqualTo(0600);
    assertThat(root.resolve("backend-vm-2.vm-apps/bin/start-istio-proxy.sh")).isExecutable();
    assertThat(root.resolve("broken-vm.vm-apps")).doesNotExist();
    Canary.assertAbsent("fleet result", result.toString());
    result.results().forEach(one -> one.failure().ifPresent(Canary::assertAbsent));
  }

  @Test
  void aFleetLandsInOneArchive() throws IOException {
    ArchiveTransport transport = ArchiveTransport.perWorkload(temp.resolve("fleet.tgz"));
    assertThat(onboard(transport).successCount()).isEqualTo(2);
    assertThat(ArchiveTransport.read(transport.archive()))
        .extracting(OfflineLayout.Entry::path)
        .contains(
            "backend-vm-1.vm-apps/etc/sidecar.env",
            "backend-vm-2.vm-apps/etc/tokens/istio-token",
            "backend-vm-2.vm-apps/bin/start-istio-proxy.sh")
        .noneMatch(path -> path.startsWith("broken-vm"));
  }

  @Test
  void aDryRunWritesNothingAndShowsNoToken() {
    Path root = temp.resolve("fleet");
    OnboardingPipeline pipeline = pipeline(LocalDirectoryTransport.perWorkload(root)).dryRun();
    OnboardingResult planned = pipeline.onboard(first.ref());
    assertThat(planned.outcome()).isEqualTo(OnboardingResult.Outcome.PLANNED);
    assertThat(planned.plan().orElseThrow().toString())
        .contains("etc/sidecar.env", "bin/start-istio-proxy.sh");
    Canary.assertAbsent("plan", planned.plan().orElseThrow().toString());
    assertThat(root).doesNotExist();
  }

  @Test
  void offboardingRemovesTheLayout() {
    Path root = temp.resolve("fleet");
    OnboardingPipeline pipeline = pipeline(LocalDirectoryTransport.perWorkload(root));
    assertThat(pipeline.onboard(first.ref()).isSuccess()).isTrue();
    assertThat(root.resolve("backend-vm-1.vm-apps")).isDirectory();
    assertThat(pipeline.offboard(first.ref()).isSuccess()).isTrue();
    assertThat(root.resolve("backend-vm-1.vm-apps")).doesNotExist();
  }

  private FleetResult onboard(Transport transport) {
    return pipeline(transport).onboardAll(List.of(first.ref(), broken.ref(), second.ref()));
  }

  private OnboardingPipeline pipeline(Transport transport) {
    stages.registrar().add(first, second, broken);
    return stages
        .pipelineBuilder(ContainerBundleFactory.create(), TestMeshes.typical())
        .transport(transport)
        .launcher(ProxyLauncher.none())
        .concurrency(2)
        .build();
  }
}
