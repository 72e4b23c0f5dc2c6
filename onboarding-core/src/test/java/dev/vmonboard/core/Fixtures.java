package dev.vmonboard.core;

import dev.vmonboard.core.testing.InMemoryStages;
import dev.vmonboard.core.testing.TestMeshes;
import java.nio.charset.StandardCharsets;

/** Workloads and a minimal bundle factory for the pipeline's own tests. */
final class Fixtures {

  private Fixtures() {}

  static Workload vm(String namespace, String name, String address) {
    return Workload.builder(WorkloadRef.of(namespace, name))
        .address(address)
        .serviceAccount("vm-sa")
        .putLabels("app", name)
        .build();
  }

  /** A bundle with one environment file and a container launch: enough to exercise the pipeline. */
  static final BundleFactory MINIMAL_BUNDLES =
      (workload, mesh) ->
          Bundle.builder()
              .workload(workload.ref())
              .addFiles(
                  BundleFile.of(
                      "sidecar.env",
                      0644,
                      ("POD_NAME=" + workload.name() + "\n").getBytes(StandardCharsets.UTF_8)))
              .tokenPath("istio-token")
              .launch(
                  ContainerLaunch.builder()
                      .containerName("istio-proxy")
                      .image(mesh.values().hub() + "/proxyv2:" + mesh.values().tag())
                      .build())
              .build();

  static OnboardingPipeline.Builder pipeline(InMemoryStages stages) {
    return stages.pipelineBuilder(MINIMAL_BUNDLES, TestMeshes.typical());
  }
}
