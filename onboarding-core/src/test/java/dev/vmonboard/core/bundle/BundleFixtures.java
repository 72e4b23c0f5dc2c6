package dev.vmonboard.core.bundle;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TestMeshes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** The workloads and meshes of the golden cases, and helpers shared by the bundle tests. */
final class BundleFixtures {

  static final String NAMESPACE = "vm-apps";
  static final String HOSTNAME_GATEWAY = "gw-1234.elb.example.com";
  static final String KUBERNETES_CA =
      "-----BEGIN CERTIFICATE-----\nS3ViZXJuZXRlcyBDQQ==\n-----END CERTIFICATE-----\n";

  /** A token whose secret is the canary, so that leak checks find it. */
  static final BootstrapToken TOKEN =
      BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.parse("2030-01-01T00:00:00Z"));

  private BundleFixtures() {}

  /** A WorkloadEntry {@code vm-apps/backend-vm-1} at 10.0.0.4, app backend, SA backend-sa. */
  static Workload.Builder entry() {
    return Workload.builder(WorkloadRef.of(NAMESPACE, "backend-vm-1"))
        .address("10.0.0.4")
        .serviceAccount("backend-sa")
        .putLabels("app", "backend");
  }

  /** Case 1: a network, an app label and a stats annotation. */
  static Workload networkAppStats() {
    return entry()
        .network("vm-network")
        .putAnnotations("sidecar.istio.io/statsInclusionRegexps", "cluster\\.outbound.*")
        .build();
  }

  /** Case 2: {@code proxy.istio.io/config: "concurrency: 3"}. */
  static Workload concurrency() {
    return Workload.builder(WorkloadRef.of(NAMESPACE, "backend-vm-2"))
        .address("10.0.0.5")
        .serviceAccount("backend-sa")
        .putLabels("app", "backend")
        .putAnnotations("proxy.istio.io/config", "concurrency: 3")
        .build();
  }

  /** Case 3's workload: no app label (the service account names it). */
  static Workload legacy() {
    return Workload.builder(WorkloadRef.of(NAMESPACE, "legacy-vm"))
        .address("10.0.0.6")
        .serviceAccount("legacy-sa")
        .putLabels("version", "v1")
        .build();
  }

  /** Case 3's mesh: the typical one behind a gateway known by host name only. */
  static MeshSnapshot hostnameGatewayMesh() {
    return MeshSnapshot.builder()
        .from(TestMeshes.typical())
        .gateway(GatewayAddress.of(HOSTNAME_GATEWAY))
        .build();
  }

  /** Case 4's workload: canonical labels, a container name and a log level. */
  static Workload canonical() {
    return entry()
        .putLabels("service.istio.io/canonical-name", "backend")
        .putLabels("service.istio.io/canonical-revision", "v2")
        .putAnnotations("sidecar-bootstrap.istio.io/proxy-container-name", "istio-proxy-backend")
        .putAnnotations("sidecar.istio.io/logLevel", "debug")
        .build();
  }

  /** Case 4's mesh: revision canary, a CA at istio-csr in cert-manager, the Kubernetes CA. */
  static MeshSnapshot revisionedMesh() {
    return MeshSnapshot.builder()
        .from(TestMeshes.typical())
        .revision("canary")
        .values(
            InstallValues.builder()
                .tag("1.9.0")
                .revision("canary")
                .caAddress("istio-csr.cert-manager.svc:443")
                .build())
        .kubernetesCaCertificate(KUBERNETES_CA)
        .build();
  }

  /**
   * Case 5's workload: a WorkloadGroup with auto-registration, port 8080, an HTTP probe and {@code
   * proxyMetadata.FOO} of its own.
   */
  static Workload group() {
    return Workload.builder(WorkloadRef.of(NAMESPACE, "backend-group"))
        .kind(Workload.Kind.WORKLOAD_GROUP)
        .autoRegister(true)
        .serviceAccount("backend-sa")
        .network("vm-network")
        .putLabels("app", "backend")
        .putPorts("http", 8080)
        .readinessProbe(ReadinessProbe.httpGet("/ready", 8080).periodSeconds(5).build())
        .putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  FOO: group\n")
        .build();
  }

  /** Case 5's mesh: {@code defaultConfig.proxyMetadata} FOO and BAR. */
  static MeshSnapshot meshWithMetadata() {
    return MeshSnapshot.builder()
        .from(TestMeshes.typical())
        .meshConfig(
            IstioConfig.parseMeshConfig(
                "defaultConfig:\n  proxyMetadata:\n    FOO: mesh\n    BAR: mesh\n", "test mesh"))
        .build();
  }

  /** The container-style bundle of {@code workload} in {@code mesh}, with the canary token. */
  static Bundle container(Workload workload, MeshSnapshot mesh) {
    return ContainerBundleFactory.create().build(workload, mesh).withToken(TOKEN);
  }

  /** The systemd-style bundle of {@code workload} in {@code mesh}, with the canary token. */
  static Bundle systemd(Workload workload, MeshSnapshot mesh) {
    return SystemdBundleFactory.create().build(workload, mesh).withToken(TOKEN);
  }

  /** The text of {@code bundle}'s file at {@code path}. */
  static String text(Bundle bundle, String path) {
    return new String(bundle.file(path).orElseThrow().content(), StandardCharsets.UTF_8);
  }
}
