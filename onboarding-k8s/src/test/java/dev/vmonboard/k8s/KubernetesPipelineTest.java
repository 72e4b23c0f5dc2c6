package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kubernetes stages in a real pipeline, with core's in-memory transport and launcher. */
class KubernetesPipelineTest {

  /** A small bundle that carries what discovery found, to see it arrive. */
  static final BundleFactory BUNDLES =
      (workload, mesh) ->
          Bundle.builder()
              .workload(workload.ref())
              .addFiles(
                  BundleFile.of(
                      "istio-ca.pem",
                      0644,
                      mesh.rootCertificate().getBytes(StandardCharsets.US_ASCII)),
                  BundleFile.of(
                      "sidecar.env",
                      0644,
                      ("CA_ADDR="
                              + mesh.defaultProxyConfig().get("discoveryAddress")
                              + "\nGATEWAY="
                              + mesh.gateway().orElseThrow()
                              + "\nSERVICE_ACCOUNT="
                              + workload.serviceAccount().orElseThrow()
                              + "\n")
                          .getBytes(StandardCharsets.UTF_8)))
              .tokenPath("istio-token")
              .launch(
                  ContainerLaunch.builder()
                      .containerName("istio-proxy")
                      .image(mesh.values().hub() + "/proxyv2:" + mesh.values().tag())
                      .build())
              .build();

  private EmbeddedIstioCluster cluster;
  private InMemoryTransport transport;
  private InMemoryProxyLauncher launcher;
  private OnboardingPipeline pipeline;

  @BeforeEach
  void start() {
    cluster = EmbeddedIstioCluster.start();
    transport = new InMemoryTransport();
    launcher = new InMemoryProxyLauncher();
    pipeline =
        OnboardingPipeline.builder()
            .registrar(KubernetesRegistrar.create(cluster.cluster()))
            .tokenIssuer(ServiceAccountTokenIssuer.create(cluster.cluster()))
            .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
            .bundleFactory(BUNDLES)
            .transport(transport)
            .launcher(launcher)
            .retryPolicy(new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5)))
            .build();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void registersOnboardsAndOffboardsAVmThroughTheCluster() {
    Registration registration =
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-1", "10.0.0.1"));

    OnboardingResult onboarded = pipeline.onboard(registration).orThrow();

    Bundle delivered = transport.bundleAt(onboarded.target().orElseThrow()).orElseThrow();
    assertThat(text(delivered, "istio-ca.pem")).isEqualTo(cluster.istioRootCertificatePem());
    assertThat(text(delivered, "sidecar.env"))
        .contains("CA_ADDR=istiod.istio-system.svc:15012")
        .contains("GATEWAY=" + TypicalIstio.GATEWAY_IP);
    String token = text(delivered, "istio-token");
    assertThat(token.split("\\.")).hasSize(3);
    assertThat(onboarded.tokenExpiresAt()).isPresent();
    assertThat(onboarded.toString()).doesNotContain(token);
    assertThat(launcher.isRunning(onboarded.target().orElseThrow())).isTrue();
    assertThat(entries()).hasSize(1);

    OnboardingResult offboarded = pipeline.offboard(WorkloadRef.of("vms", "vm-1")).orThrow();

    assertThat(offboarded.isSuccess()).isTrue();
    assertThat(launcher.isRunning(onboarded.target().orElseThrow())).isFalse();
    assertThat(entries()).isEmpty();
    assertThat(cluster.client().serviceAccounts().inNamespace("vms").withName("vm-sa").get())
        .isNull();
  }

  @Test
  void aSecondRunFindsTheRecordOnTheEntryAndLeavesTheVmAlone() {
    Registration registration =
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-1", "10.0.0.1"));
    OnboardingResult first = pipeline.onboard(registration).orThrow();
    assertThat(entries().get(0).getMetadata().getAnnotations())
        .containsEntry(
            BootstrapRecord.TOKEN_EXPIRES_AT, first.tokenExpiresAt().orElseThrow().toString());
    long tokensBefore = tokenRequests();

    OnboardingResult second = pipeline.onboard(registration).orThrow();

    assertThat(second.outcome()).isEqualTo(OnboardingResult.Outcome.UNCHANGED);
    assertThat(tokenRequests()).isEqualTo(tokensBefore);
    assertThat(transport.deliveries()).hasSize(1);
  }

  @Test
  void onboardsAFleetWithOneTokenPerVm() {
    KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
    registrar.register(
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-1", "10.0.0.1")));
    registrar.register(
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-2", "10.0.0.2")));

    FleetResult fleet = pipeline.onboardAll(WorkloadSelector.inNamespace("vms"));

    assertThat(fleet.results()).hasSize(2).allMatch(OnboardingResult::isSuccess);
    assertThat(transport.deliveries())
        .extracting(bundle -> text(bundle, "istio-token"))
        .doesNotHaveDuplicates()
        .hasSize(2);
  }

  @Test
  void refusesABadEntryNamingEveryFieldBeforeAnyTokenIsIssued() {
    GenericKubernetesResource entry = EmbeddedIstioClusterTest.workloadEntry("v1", "no-sa");
    entry.setAdditionalProperty(
        "spec", Map.of("address", "not an address", "labels", Map.of("app", "bad value!")));
    cluster
        .client()
        .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
        .inNamespace("vms")
        .resource(entry)
        .create();

    OnboardingResult result = pipeline.onboard(WorkloadRef.of("vms", "no-sa"));

    assertThat(result.isSuccess()).isFalse();
    assertThat(result.failedStage()).contains(Stage.PREPARE);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains("vms/no-sa")
        .contains("spec.serviceAccount")
        .contains("spec.address")
        .contains("spec.labels.app");
    assertThat(cluster.requestLog()).noneMatch(line -> line.endsWith("/token"));
    assertThat(transport.deliveries()).isEmpty();
  }

  private long tokenRequests() {
    return cluster.requestLog().stream().filter(line -> line.endsWith("/token")).count();
  }

  private List<GenericKubernetesResource> entries() {
    return TestObjects.entries(cluster.client(), "vms");
  }

  private static String text(Bundle bundle, String path) {
    return new String(bundle.file(path).orElseThrow().content(), StandardCharsets.UTF_8);
  }
}
