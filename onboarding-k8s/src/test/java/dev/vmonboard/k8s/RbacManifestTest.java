package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays what the SDK does (discovery, registration of an entry and a group, listing, onboarding,
 * offboarding) against the embedded cluster and checks that the shipped RBAC manifest grants every
 * request it made, and that the manifest grants nothing the SDK does not use.
 */
class RbacManifestTest {

  @Test
  void grantsEveryRequestTheSdkMakesAndNothingMore() throws Exception {
    List<HasMetadata> manifest;
    try (InputStream yaml =
        getClass().getClassLoader().getResourceAsStream(KubernetesFailures.RBAC_RESOURCE)) {
      assertThat(yaml).as(KubernetesFailures.RBAC_RESOURCE + " on the class path").isNotNull();
      manifest = new KubernetesSerialization().unmarshal(yaml);
    }

    List<String> requests;
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      int seeded = cluster.requestLog().size();
      replayEverything(cluster);
      requests = cluster.requestLog().subList(seeded, cluster.requestLog().size());
    }

    RbacRules.assertGrantsExactly(manifest, requests);
  }

  private static void replayEverything(EmbeddedIstioCluster cluster) {
    KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
    OnboardingPipeline pipeline =
        OnboardingPipeline.builder()
            .registrar(registrar)
            .tokenIssuer(ServiceAccountTokenIssuer.create(cluster.cluster()))
            .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
            .bundleFactory(KubernetesPipelineTest.BUNDLES)
            .transport(new InMemoryTransport())
            .launcher(new InMemoryProxyLauncher())
            .retryPolicy(new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)))
            .build();
    pipeline
        .onboard(
            KubernetesRegistrarTest.fullRegistration(
                KubernetesRegistrarTest.vm("vm-1", "10.0.0.1")))
        .orThrow();
    // A second run updates what changed: the entry's address and the Sidecar's endpoint.
    Registration moved =
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-1", "10.0.0.9"));
    pipeline
        .onboard(
            Registration.builder()
                .from(moved)
                .sidecar(
                    dev.vmonboard.core.Registration.SidecarSpec.builder()
                        .addIngress(
                            dev.vmonboard.core.Registration.SidecarSpec.Ingress.of(
                                8080, "HTTP", "http", "127.0.0.1:9999"))
                        .build())
                .build())
        .orThrow();
    pipeline
        .onboard(
            KubernetesRegistrarTest.fullRegistration(
                KubernetesRegistrarTest.vm("vm-2", "10.0.0.2")))
        .orThrow();
    Workload group =
        Workload.builder(WorkloadRef.of("vms", "group"))
            .kind(Workload.Kind.WORKLOAD_GROUP)
            .serviceAccount("vm-sa")
            .putLabels("app", "backend")
            .readinessProbe(ReadinessProbe.tcp(8080).build())
            .build();
    registrar.register(Registration.of(group));
    registrar.register(Registration.of(group.toBuilder().putLabels("version", "v2").build()));
    registrar.list(WorkloadSelector.allNamespaces());
    // Naming an unknown revision lists the installed ones.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                KubernetesMeshDiscovery.builder(cluster.cluster())
                    .revision("canary")
                    .build()
                    .snapshot())
        .isInstanceOf(dev.vmonboard.core.NotFoundException.class);
    pipeline.offboardAll(WorkloadSelector.inNamespace("vms"));
    registrar.deregister(WorkloadRef.of("vms", "group"));
  }
}
