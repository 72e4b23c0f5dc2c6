package dev.vmonboard.core.bundle;

import static dev.vmonboard.core.bundle.BundleFixtures.entry;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.TestMeshes;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rules of the container style (domain reference, section 4), one behaviour per row: each row
 * changes the workload or the mesh of a baseline and names the variable of {@code sidecar.env} (or
 * the part of the launch) that must follow.
 */
class ContainerBundleFactoryTest {

  private static final String GATEWAY = TestMeshes.GATEWAY_IP;

  /** Every variable after {@code proxyMetadata}, in the order of the reference's table. */
  private static final List<String> FIXED_ORDER =
      List.of(
          "JWT_POLICY",
          "PROV_CERT",
          "OUTPUT_CERTS",
          "PILOT_CERT_PROVIDER",
          "CA_ADDR",
          "CA_SNI",
          "PILOT_SNI",
          "POD_NAME",
          "POD_NAMESPACE",
          "IDENTITY_IP",
          "HOST_IP",
          "INSTANCE_IP",
          "SERVICE_ACCOUNT",
          "CANONICAL_SERVICE",
          "CANONICAL_REVISION",
          "PROXY_CONFIG",
          "ISTIO_META_CLUSTER_ID",
          "ISTIO_META_INTERCEPTION_MODE",
          "ISTIO_META_NETWORK",
          "ISTIO_METAJSON_LABELS",
          "ISTIO_METAJSON_ISTIO_ANNOTATIONS",
          "ISTIO_META_WORKLOAD_NAME",
          "ISTIO_META_OWNER",
          "ISTIO_META_MESH_ID");

  static Stream<Arguments> variables() {
    return Stream.of(
        row("JWT_POLICY is global.jwtPolicy", w -> w, m -> m, "JWT_POLICY", "third-party-jwt"),
        row(
            "PROV_CERT is the secrets directory",
            w -> w,
            m -> m,
            "PROV_CERT",
            "/var/run/secrets/istio"),
        row(
            "OUTPUT_CERTS is the secrets directory",
            w -> w,
            m -> m,
            "OUTPUT_CERTS",
            "/var/run/secrets/istio"),
        row("PILOT_CERT_PROVIDER is istiod", w -> w, m -> m, "PILOT_CERT_PROVIDER", "istiod"),
        row(
            "CA_ADDR is global.caAddress when set",
            w -> w,
            m -> m.values(values().caAddress("ca.example.com:443").build()),
            "CA_ADDR",
            "ca.example.com:443"),
        row(
            "CA_ADDR is else the discovery address",
            w -> w,
            m ->
                m.meshConfig(
                    mesh("defaultConfig:\n  discoveryAddress: istiod-x.istio-system.svc:15012")),
            "CA_ADDR",
            "istiod-x.istio-system.svc:15012"),
        row(
            "CA_SNI is empty for a cluster-local CA",
            w -> w,
            m -> m.values(values().caAddress("istiod.istio-system.svc:15012").build()),
            "CA_SNI",
            ""),
        row(
            "CA_SNI names istiod for a CA outside the cluster",
            w -> w,
            m -> m.values(values().caAddress("ca.example.com:443").build()),
            "CA_SNI",
            "istiod.istio-system.svc"),
        row(
            "CA_SNI names istiod of the Istio namespace",
            w -> w,
            m -> m.istioNamespace("mesh-cp").values(values().caAddress("10.9.9.9:15012").build()),
            "CA_SNI",
            "istiod.mesh-cp.svc"),
        row(
            "PILOT_SNI is empty for a cluster-local discovery address",
            w -> w,
            m -> m,
            "PILOT_SNI",
            ""),
        row(
            "PILOT_SNI names istiod for a discovery address outside the cluster",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  discoveryAddress: istiod.example.com:15012")),
            "PILOT_SNI",
            "istiod.istio-system.svc"),
        row(
            "POD_NAME is the name and the first 7 hex digits of sha256(address)",
            w -> w,
            m -> m,
            "POD_NAME",
            "backend-vm-1-180d338"),
        row(
            "POD_NAME hashes a DNS address too",
            w -> w.address("vm1.example.com").putAnnotations(instanceIp(), "10.0.0.9"),
            m -> m,
            "POD_NAME",
            "backend-vm-1-8e9d177"),
        row("POD_NAMESPACE is the namespace", w -> w, m -> m, "POD_NAMESPACE", "vm-apps"),
        row("IDENTITY_IP is the address", w -> w, m -> m, "IDENTITY_IP", "10.0.0.4"),
        row(
            "IDENTITY_IP is the address even when it is a name",
            w -> w.address("vm1.example.com").putAnnotations(instanceIp(), "10.0.0.9"),
            m -> m,
            "IDENTITY_IP",
            "vm1.example.com"),
        row("HOST_IP is the address", w -> w, m -> m, "HOST_IP", "10.0.0.4"),
        row(
            "INSTANCE_IP is the address when it is an IP",
            w -> w,
            m -> m,
            "INSTANCE_IP",
            "10.0.0.4"),
        row(
            "INSTANCE_IP is the proxy-instance-ip annotation when set",
            w -> w.putAnnotations(instanceIp(), "172.31.0.7"),
            m -> m,
            "INSTANCE_IP",
            "172.31.0.7"),
        row(
            "INSTANCE_IP takes an IPv6 annotation",
            w -> w.putAnnotations(instanceIp(), "fd00::7"),
            m -> m,
            "INSTANCE_IP",
            "fd00::7"),
        row(
            "SERVICE_ACCOUNT is spec.serviceAccount",
            w -> w,
            m -> m,
            "SERVICE_ACCOUNT",
            "backend-sa"),
        row(
            "CANONICAL_SERVICE is the canonical-name label",
            w -> w.putLabels("service.istio.io/canonical-name", "shop"),
            m -> m,
            "CANONICAL_SERVICE",
            "shop"),
        row(
            "CANONICAL_SERVICE comes from metadata labels too",
            w -> w.putMetadataLabels("service.istio.io/canonical-name", "shop"),
            m -> m,
            "CANONICAL_SERVICE",
            "shop"),
        row(
            "CANONICAL_SERVICE is empty without the label",
            w -> w,
            m -> m,
            "CANONICAL_SERVICE",
            ""),
        row(
            "CANONICAL_REVISION is the canonical-revision label",
            w -> w.putLabels("service.istio.io/canonical-revision", "v3"),
            m -> m,
            "CANONICAL_REVISION",
            "v3"),
        row(
            "CANONICAL_REVISION is empty without the label",
            w -> w,
            m -> m,
            "CANONICAL_REVISION",
            ""),
        row(
            "ISTIO_META_CLUSTER_ID is the cluster name",
            w -> w,
            m -> m.values(values().clusterName("east").build()),
            "ISTIO_META_CLUSTER_ID",
            "east"),
        row(
            "ISTIO_META_CLUSTER_ID defaults to Kubernetes",
            w -> w,
            m -> m,
            "ISTIO_META_CLUSTER_ID",
            "Kubernetes"),
        row(
            "ISTIO_META_INTERCEPTION_MODE defaults to NONE",
            w -> w,
            m -> m,
            "ISTIO_META_INTERCEPTION_MODE",
            "NONE"),
        row(
            "ISTIO_META_INTERCEPTION_MODE follows the annotation",
            w -> w.putAnnotations("sidecar.istio.io/interceptionMode", "TPROXY"),
            m -> m,
            "ISTIO_META_INTERCEPTION_MODE",
            "TPROXY"),
        row(
            "ISTIO_META_NETWORK is spec.network",
            w -> w.network("vm-net"),
            m -> m.values(values().network("cluster-net").build()),
            "ISTIO_META_NETWORK",
            "vm-net"),
        row(
            "ISTIO_META_NETWORK is else global.network",
            w -> w,
            m -> m.values(values().network("cluster-net").build()),
            "ISTIO_META_NETWORK",
            "cluster-net"),
        row("ISTIO_META_NETWORK is else empty", w -> w, m -> m, "ISTIO_META_NETWORK", ""),
        row(
            "ISTIO_METAJSON_LABELS merges metadata labels under spec labels, sorted",
            w -> w.putMetadataLabels("app", "old").putMetadataLabels("team", "blue"),
            m -> m,
            "ISTIO_METAJSON_LABELS",
            "{\"app\":\"backend\",\"team\":\"blue\"}"),
        row(
            "ISTIO_METAJSON_LABELS is empty without labels",
            w -> Workload.builder().from(w.build()).labels(Map.of()),
            m -> m,
            "ISTIO_METAJSON_LABELS",
            ""),
        row(
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS keeps only istio.io/ annotations",
            w ->
                w.putAnnotations("sidecar.istio.io/statsInclusionPrefixes", "tcp")
                    .putAnnotations("example.com/owner", "ops"),
            m -> m,
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS",
            "{\"sidecar.istio.io/statsInclusionPrefixes\":\"tcp\"}"),
        row(
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS escapes a multi-line value onto one line",
            w -> w.putAnnotations("proxy.istio.io/config", "tracing:\n  sampling: 5\n"),
            m -> m,
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS",
            "{\"proxy.istio.io/config\":\"tracing:\\n  sampling: 5\\n\"}"),
        row(
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS is empty without such annotations",
            w -> w,
            m -> m,
            "ISTIO_METAJSON_ISTIO_ANNOTATIONS",
            ""),
        row(
            "ISTIO_META_WORKLOAD_NAME is the app label",
            w -> w,
            m -> m,
            "ISTIO_META_WORKLOAD_NAME",
            "backend"),
        row(
            "ISTIO_META_WORKLOAD_NAME is the metadata app label when spec has none",
            w ->
                Workload.builder()
                    .from(w.build())
                    .labels(Map.of())
                    .putMetadataLabels("app", "meta"),
            m -> m,
            "ISTIO_META_WORKLOAD_NAME",
            "meta"),
        row(
            "ISTIO_META_WORKLOAD_NAME is else the service account",
            w -> Workload.builder().from(w.build()).labels(Map.of()),
            m -> m,
            "ISTIO_META_WORKLOAD_NAME",
            "backend-sa"),
        row(
            "ISTIO_META_OWNER is the WorkloadEntry's URI",
            w -> w,
            m -> m,
            "ISTIO_META_OWNER",
            "kubernetes://apis/networking.istio.io/v1beta1/namespaces/vm-apps/workloadentries/backend-vm-1"),
        row(
            "ISTIO_META_MESH_ID is global.meshID",
            w -> w,
            m -> m.values(values().meshId("mesh1").build()),
            "ISTIO_META_MESH_ID",
            "mesh1"),
        row(
            "ISTIO_META_MESH_ID is else the trust domain",
            w -> w,
            m -> m.values(values().trustDomain("example.org").build()),
            "ISTIO_META_MESH_ID",
            "example.org"),
        row(
            "ISTIO_META_MESH_ID prefers MeshConfig's trustDomain",
            w -> w,
            m -> m.meshConfig(mesh("trustDomain: corp.local")),
            "ISTIO_META_MESH_ID",
            "corp.local"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variables")
  void variable(
      String rule,
      UnaryOperator<Workload.Builder> workload,
      UnaryOperator<MeshSnapshot.Builder> mesh,
      String name,
      String expected) {
    Bundle bundle = build(workload, mesh);
    assertThat(EnvFiles.sidecarEnv(bundle)).containsEntry(name, expected);
  }

  static Stream<Arguments> proxyConfigs() {
    return Stream.of(
        Arguments.of(
            "an empty mesh gives Istio's built-in defaults",
            "",
            "",
            "",
            "{\"binaryPath\":\"/usr/local/bin/envoy\",\"configPath\":\"./etc/istio/proxy\","
                + "\"controlPlaneAuthPolicy\":\"MUTUAL_TLS\","
                + "\"discoveryAddress\":\"istiod.istio-system.svc:15012\",\"drainDuration\":\"45s\","
                + "\"parentShutdownDuration\":\"60s\",\"proxyAdminPort\":15000,"
                + "\"serviceCluster\":\"backend.vm-apps\",\"statNameLength\":189,"
                + "\"statusPort\":15020,\"terminationDrainDuration\":\"5s\","
                + "\"tracing\":{\"zipkin\":{\"address\":\"zipkin.istio-system:9411\"}}}"),
        Arguments.of(
            "a partial defaultConfig keeps the other defaults",
            "defaultConfig:\n  drainDuration: 10s\n",
            "",
            "",
            "\"drainDuration\":\"10s\""),
        Arguments.of(
            "mesh-expansion overrides the mesh default",
            "defaultConfig:\n  drainDuration: 10s\n",
            "drainDuration: 20s\n",
            "",
            "\"drainDuration\":\"20s\""),
        Arguments.of(
            "the workload's annotation overrides the expansion",
            "",
            "drainDuration: 20s\n",
            "drainDuration: 30s\n",
            "\"drainDuration\":\"30s\""),
        Arguments.of(
            "nested sections merge key by key",
            "defaultConfig:\n  tracing:\n    sampling: 1\n",
            "",
            "tracing:\n  zipkin:\n    address: zipkin.example.com:9411\n",
            "\"tracing\":{\"sampling\":1,\"zipkin\":{\"address\":\"zipkin.example.com:9411\"}}"),
        Arguments.of(
            "serviceCluster is app.namespace",
            "defaultConfig:\n  serviceCluster: mesh-wide\n",
            "",
            "",
            "\"serviceCluster\":\"backend.vm-apps\""),
        Arguments.of(
            "the workload's annotation may set serviceCluster",
            "",
            "",
            "serviceCluster: custom.vm-apps\n",
            "\"serviceCluster\":\"custom.vm-apps\""),
        Arguments.of(
            "proxyMetadata values are text",
            "",
            "",
            "proxyMetadata:\n  DNS_AGENT: true\n",
            "\"proxyMetadata\":{\"DNS_AGENT\":\"true\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("proxyConfigs")
  void proxyConfig(
      String rule, String meshYaml, String expansionYaml, String annotation, String expected) {
    UnaryOperator<Workload.Builder> workload =
        annotation.isEmpty() ? w -> w : w -> w.putAnnotations("proxy.istio.io/config", annotation);
    Bundle bundle =
        build(
            workload,
            m ->
                m.meshConfig(mesh(meshYaml))
                    .meshExpansionProxyConfig(IstioConfig.parseProxyConfig(expansionYaml, "test")));
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG")).contains(expected);
  }

  @Test
  void proxyConfigKeepsTheAnnotationsConcurrency() {
    Bundle bundle =
        build(
            w -> w.putAnnotations("proxy.istio.io/config", "concurrency: 3"),
            m ->
                m.meshConfig(mesh("defaultConfig:\n  concurrency: 2"))
                    .meshExpansionProxyConfig(Map.of("concurrency", 4)));
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG")).contains("\"concurrency\":3");
    assertThat(launch(bundle).args()).containsSequence("--concurrency", "3");
  }

  @Test
  void proxyConfigKeepsTheExpansionsConcurrency() {
    Bundle bundle =
        build(
            w -> w,
            m ->
                m.meshConfig(mesh("defaultConfig:\n  concurrency: 2"))
                    .meshExpansionProxyConfig(Map.of("concurrency", 4)));
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG")).contains("\"concurrency\":4");
    assertThat(launch(bundle).args()).containsSequence("--concurrency", "4");
  }

  @Test
  void proxyConfigNeverCarriesTheMeshWideConcurrency() {
    Bundle bundle = build(w -> w, m -> m.meshConfig(mesh("defaultConfig:\n  concurrency: 2")));
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG")).doesNotContain("concurrency");
    assertThat(launch(bundle).args()).containsSequence("--concurrency", "0");
  }

  @Test
  void serviceClusterFallsBackToTheServiceAccount() {
    Bundle bundle = build(w -> Workload.builder().from(w.build()).labels(Map.of()), m -> m);
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG"))
        .contains("\"serviceCluster\":\"backend-sa.vm-apps\"");
    assertThat(launch(bundle).args()).containsSequence("--serviceCluster", "backend-sa.vm-apps");
  }

  @Test
  void variablesFollowTheReferenceOrderAfterProxyMetadata() {
    Bundle bundle =
        build(
            w ->
                w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  ZED: z\n  ALPHA: a\n"),
            m -> m);
    List<String> names = EnvFiles.sidecarEnvNames(bundle);
    assertThat(names.subList(0, 2)).containsExactly("ALPHA", "ZED");
    assertThat(names.subList(2, names.size())).containsExactlyElementsOf(FIXED_ORDER);
  }

  @Test
  void fixedVariablesOverrideProxyMetadataWithoutDuplicates() {
    Bundle bundle =
        build(
            w ->
                w.putAnnotations(
                    "proxy.istio.io/config", "proxyMetadata:\n  POD_NAME: mine\n  EXTRA: x\n"),
            m -> m);
    List<String> names = EnvFiles.sidecarEnvNames(bundle);
    assertThat(names).containsOnlyOnce("POD_NAME").startsWith("EXTRA");
    assertThat(EnvFiles.sidecarEnv(bundle)).containsEntry("POD_NAME", "backend-vm-1-180d338");
  }

  @Test
  void workloadProxyMetadataReplacesTheMeshs() {
    Bundle bundle =
        build(
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  LEVEL: workload\n"),
            m ->
                m.meshConfig(
                    mesh("defaultConfig:\n  proxyMetadata:\n    LEVEL: mesh\n    ONLY: mesh\n")));
    // The anchor unmarshals the annotation onto the ProxyConfig: a map is replaced whole.
    assertThat(EnvFiles.sidecarEnv(bundle))
        .containsEntry("LEVEL", "workload")
        .doesNotContainKey("ONLY");
  }

  @Test
  void everyVariableIsOneLine() {
    Bundle bundle =
        build(
            w ->
                w.putAnnotations("proxy.istio.io/config", "concurrency: 2\ndrainDuration: 9s\n")
                    .putAnnotations("sidecar.istio.io/statsInclusionRegexps", "a\nb\r\tc"),
            m -> m);
    String text = BundleFixtures.text(bundle, ContainerBundleFactory.ENV_FILE);
    assertThat(text.lines())
        .hasSize(FIXED_ORDER.size())
        .allMatch(line -> line.matches("[A-Z_]+=.*"));
  }

  static Stream<Arguments> images() {
    return Stream.of(
        Arguments.of(
            "hub, proxy image and tag of the mesh",
            Map.of(),
            InstallValues.builder().tag("1.9.0").build(),
            "docker.io/istio/proxyv2:1.9.0"),
        Arguments.of(
            "the proxyImage annotation wins",
            Map.of(
                "sidecar.istio.io/proxyImage", "mirror.local/proxyv2:1.9.1",
                "sidecar-bootstrap.istio.io/proxy-image-hub", "ignored.local"),
            InstallValues.builder().tag("1.9.0").build(),
            "mirror.local/proxyv2:1.9.1"),
        Arguments.of(
            "the proxy-image-hub annotation replaces the hub",
            Map.of("sidecar-bootstrap.istio.io/proxy-image-hub", "mirror.local:5000/istio/"),
            InstallValues.builder().tag("1.9.0").build(),
            "mirror.local:5000/istio/proxyv2:1.9.0"),
        Arguments.of(
            "a trailing slash of the hub is dropped",
            Map.of(),
            InstallValues.builder().hub("gcr.io/istio-release/").tag("1.9.0").build(),
            "gcr.io/istio-release/proxyv2:1.9.0"),
        Arguments.of(
            "the proxy image name comes from global.proxy.image",
            Map.of(),
            InstallValues.builder().proxyImage("proxyv2-distroless").tag("1.9.0").build(),
            "docker.io/istio/proxyv2-distroless:1.9.0"),
        Arguments.of(
            "a global.proxy.image with a slash is a whole image",
            Map.of(),
            InstallValues.builder().proxyImage("registry.local/custom/proxy:7").build(),
            "registry.local/custom/proxy:7"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void image(String rule, Map<String, String> annotations, InstallValues values, String expected) {
    Bundle bundle = build(w -> w.putAllAnnotations(annotations), m -> m.values(values));
    assertThat(launch(bundle).image()).isEqualTo(expected);
  }

  static Stream<Arguments> arguments() {
    ContainerBundleFactory defaults = ContainerBundleFactory.create();
    ContainerBundleFactory options =
        ContainerBundleFactory.builder()
            .concurrency(2)
            .logLevel("debug")
            .componentLogLevel("misc:error")
            .build();
    return Stream.of(
        Arguments.of(
            "concurrency 0 (all cores) by default",
            defaults,
            Map.of(),
            Map.of(),
            "--concurrency",
            "0"),
        Arguments.of(
            "concurrency from the factory's option",
            options,
            Map.of(),
            Map.of(),
            "--concurrency",
            "2"),
        Arguments.of(
            "concurrency from the mesh-expansion overrides",
            options,
            Map.of(),
            Map.of("concurrency", 4),
            "--concurrency",
            "4"),
        Arguments.of(
            "concurrency from the annotation over everything",
            options,
            Map.of("proxy.istio.io/config", "concurrency: 3"),
            Map.of("concurrency", 4),
            "--concurrency",
            "3"),
        Arguments.of(
            "log level of the mesh by default",
            defaults,
            Map.of(),
            Map.of(),
            "--proxyLogLevel",
            "info"),
        Arguments.of(
            "log level from the factory's option",
            options,
            Map.of(),
            Map.of(),
            "--proxyLogLevel",
            "debug"),
        Arguments.of(
            "log level from the annotation over the option",
            options,
            Map.of("sidecar.istio.io/logLevel", "warning"),
            Map.of(),
            "--proxyLogLevel",
            "warning"),
        Arguments.of(
            "component log level of the mesh by default",
            defaults,
            Map.of(),
            Map.of(),
            "--proxyComponentLogLevel",
            "misc:info"),
        Arguments.of(
            "component log level from the option",
            options,
            Map.of(),
            Map.of(),
            "--proxyComponentLogLevel",
            "misc:error"),
        Arguments.of(
            "component log level from the annotation over the option",
            options,
            Map.of("sidecar.istio.io/componentLogLevel", "upstream:debug,misc:warning"),
            Map.of(),
            "--proxyComponentLogLevel",
            "upstream:debug,misc:warning"),
        Arguments.of(
            "trust domain of the mesh",
            defaults,
            Map.of(),
            Map.of(),
            "--trust-domain",
            "cluster.local"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("arguments")
  void argument(
      String rule,
      ContainerBundleFactory factory,
      Map<String, String> annotations,
      Map<String, Object> expansion,
      String flag,
      String expected) {
    Bundle bundle =
        factory.build(
            entry().putAllAnnotations(annotations).build(),
            MeshSnapshot.builder()
                .from(TestMeshes.typical())
                .meshExpansionProxyConfig(expansion)
                .build());
    assertThat(launch(bundle).args()).containsSequence(flag, expected);
  }

  @Test
  void argumentsStartWithProxySidecar() {
    assertThat(launch(build(w -> w, m -> m)).args())
        .startsWith("proxy", "sidecar", "--serviceCluster", "backend.vm-apps");
  }

  @Test
  void containerRunsOnTheHostNetworkAndRestartsUnlessStopped() {
    ContainerLaunch launch = launch(build(w -> w, m -> m));
    assertThat(launch.hostNetwork()).isTrue();
    assertThat(launch.restartPolicy()).isEqualTo("unless-stopped");
    assertThat(launch.envFile()).contains("sidecar.env");
    assertThat(launch.containerName()).isEqualTo("istio-proxy");
  }

  @Test
  void containerNameFollowsTheAnnotation() {
    ContainerLaunch launch =
        launch(
            build(
                w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-container-name", "p2"),
                m -> m));
    assertThat(launch.containerName()).isEqualTo("p2");
  }

  @Test
  void mountsTheTokenDirectoryReadOnlySoThatARefreshedTokenReachesTheRunningProxy() {
    Bundle bundle = build(w -> w, m -> m);
    assertThat(bundle.tokenPath()).isEqualTo("tokens/istio-token");
    assertThat(launch(bundle).mounts())
        .containsExactly(ContainerLaunch.Mount.of("tokens", "/var/run/secrets/tokens", true));
    assertThat(launch(bundle).runArguments("/tmp/istio-proxy"))
        .containsSequence("-v", "/tmp/istio-proxy/tokens:/var/run/secrets/tokens:ro")
        .noneMatch(word -> word.contains("istio-token"));
    assertThat(bundle.files()).noneMatch(file -> file.path().startsWith("tokens/"));
  }

  @Test
  void mountsTheKubernetesCaOnlyWhenKnown() {
    Bundle bundle = build(w -> w, m -> m.kubernetesCaCertificate(BundleFixtures.KUBERNETES_CA));
    assertThat(launch(bundle).mounts())
        .contains(
            ContainerLaunch.Mount.of(
                "k8s-ca.pem", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", true));
    assertThat(bundle.file("k8s-ca.pem").map(BundleFile::mode)).contains(0644);
  }

  @Test
  void secretsDirectoryIsAHostDirectoryBesideTheConfigDirectorySeededWithTheRootCertificate() {
    ContainerLaunch launch = launch(build(w -> w, m -> m));
    assertThat(launch.hostDirectories())
        .containsExactly(
            ContainerLaunch.HostDirectory.of(
                "-certs", "/var/run/secrets/istio", Map.of("istio-ca.pem", "root-cert.pem")));
    assertThat(launch.runArguments("/tmp/istio-proxy"))
        .containsSequence("-v", "/tmp/istio-proxy-certs:/var/run/secrets/istio");
  }

  @Test
  void filesHaveTheirModesAndTheTokenComesLater() {
    Bundle bundle = ContainerBundleFactory.create().build(entry().build(), TestMeshes.typical());
    assertThat(bundle.files())
        .extracting(BundleFile::path, BundleFile::mode, BundleFile::secret)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("sidecar.env", 0644, false),
            org.assertj.core.groups.Tuple.tuple("istio-ca.pem", 0644, false));
    assertThat(bundle.hasToken()).isFalse();
    assertThat(bundle.tokenPath()).isEqualTo("tokens/istio-token");
    assertThat(
            bundle.withToken(BundleFixtures.TOKEN).file("tokens/istio-token").orElseThrow().mode())
        .isEqualTo(0600);
  }

  @Test
  void sameInputsGiveTheSameBundle() {
    Bundle first = build(w -> w, m -> m);
    Bundle second = build(w -> w, m -> m);
    assertThat(first.contentHash()).isEqualTo(second.contentHash());
    assertThat(first).isEqualTo(second);
  }

  static Stream<Arguments> aliases() {
    return Stream.of(
        Arguments.of(
            "istiod and the default zipkin, four names each",
            "",
            List.of(
                "istiod.istio-system",
                "istiod.istio-system.svc",
                "istiod.istio-system.svc.cluster",
                "istiod.istio-system.svc.cluster.local",
                "zipkin.istio-system",
                "zipkin.istio-system.svc",
                "zipkin.istio-system.svc.cluster",
                "zipkin.istio-system.svc.cluster.local")),
        Arguments.of(
            "each alias once when two addresses name the same service",
            "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc.cluster.local:15012\n"
                + "  tracing:\n    zipkin:\n      address: istiod.istio-system:9411\n",
            List.of(
                "istiod.istio-system",
                "istiod.istio-system.svc",
                "istiod.istio-system.svc.cluster",
                "istiod.istio-system.svc.cluster.local")),
        Arguments.of(
            "access log and metrics services, and a TLS SNI",
            "defaultConfig:\n  tracing:\n    tlsSettings:\n      sni: jaeger.tracing.svc\n"
                + "  envoyAccessLogService:\n    address: als.logging.svc:9000\n"
                + "  envoyMetricsService:\n    address: metrics.monitoring:9001\n",
            List.of(
                "istiod.istio-system",
                "istiod.istio-system.svc",
                "istiod.istio-system.svc.cluster",
                "istiod.istio-system.svc.cluster.local",
                "zipkin.istio-system",
                "zipkin.istio-system.svc",
                "zipkin.istio-system.svc.cluster",
                "zipkin.istio-system.svc.cluster.local",
                "jaeger.tracing",
                "jaeger.tracing.svc",
                "jaeger.tracing.svc.cluster",
                "jaeger.tracing.svc.cluster.local",
                "als.logging",
                "als.logging.svc",
                "als.logging.svc.cluster",
                "als.logging.svc.cluster.local",
                "metrics.monitoring",
                "metrics.monitoring.svc",
                "metrics.monitoring.svc.cluster",
                "metrics.monitoring.svc.cluster.local")),
        Arguments.of(
            "addresses outside the cluster and IPs get none",
            "defaultConfig:\n  tracing:\n    zipkin:\n      address: zipkin.example.com:9411\n"
                + "  envoyAccessLogService:\n    address: 10.1.2.3:9000\n",
            List.of(
                "istiod.istio-system",
                "istiod.istio-system.svc",
                "istiod.istio-system.svc.cluster",
                "istiod.istio-system.svc.cluster.local")),
        Arguments.of(
            "a bare service name is taken from the workload's namespace",
            "defaultConfig:\n  tracing:\n    zipkin:\n      address: zipkin:9411\n",
            List.of(
                "istiod.istio-system",
                "istiod.istio-system.svc",
                "istiod.istio-system.svc.cluster",
                "istiod.istio-system.svc.cluster.local",
                "zipkin.vm-apps",
                "zipkin.vm-apps.svc",
                "zipkin.vm-apps.svc.cluster",
                "zipkin.vm-apps.svc.cluster.local")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("aliases")
  void hostAliases(String rule, String meshYaml, List<String> expected) {
    ContainerLaunch launch = launch(build(w -> w, m -> m.meshConfig(mesh(meshYaml))));
    assertThat(launch.hostAliases())
        .extracting(ContainerLaunch.HostAlias::hostname)
        .containsExactlyElementsOf(expected);
    assertThat(launch.hostAliases())
        .extracting(ContainerLaunch.HostAlias::ip)
        .containsOnly(GATEWAY);
  }

  @Test
  void noHostAliasesWithoutAGateway() {
    Bundle bundle =
        ContainerBundleFactory.create()
            .build(
                entry().build(),
                MeshSnapshot.builder().rootCertificate(TestMeshes.ROOT_CERT).build());
    assertThat(launch(bundle).hostAliases()).isEmpty();
    assertThat(EnvFiles.sidecarEnv(bundle))
        .containsEntry("CA_ADDR", "istiod.istio-system.svc:15012");
  }

  static Stream<Arguments> hostnameGateway() {
    return Stream.of(
        Arguments.of(
            "the discovery address keeps its port",
            "",
            "\"discoveryAddress\":\"gw.example.com:15012\""),
        Arguments.of(
            "tracing without TLS is only pointed at the gateway",
            "",
            "\"tracing\":{\"zipkin\":{\"address\":\"gw.example.com:9411\"}}"),
        Arguments.of(
            "an address without a port stays without one",
            "defaultConfig:\n  envoyMetricsService:\n    address: metrics.monitoring\n",
            "\"envoyMetricsService\":{\"address\":\"gw.example.com\"}"),
        Arguments.of(
            "TLS to a rewritten service gets its SNI and both names as SANs",
            "defaultConfig:\n  envoyAccessLogService:\n    address: als.logging.svc:9000\n"
                + "    tlsSettings:\n      mode: SIMPLE\n",
            "\"envoyAccessLogService\":{\"address\":\"gw.example.com:9000\",\"tlsSettings\":{"
                + "\"mode\":\"SIMPLE\",\"sni\":\"als.logging.svc\",\"subjectAltNames\":["
                + "\"als.logging.svc.cluster.local\",\"als.logging.svc\"]}}"),
        Arguments.of(
            "an SNI and SANs already set are kept",
            "defaultConfig:\n  envoyAccessLogService:\n    address: als.logging.svc:9000\n"
                + "    tlsSettings:\n      mode: MUTUAL\n      sni: als.example\n"
                + "      subjectAltNames: [als.logging.svc]\n",
            "\"tlsSettings\":{\"mode\":\"MUTUAL\",\"sni\":\"als.example\",\"subjectAltNames\":["
                + "\"als.logging.svc\",\"als.logging.svc.cluster.local\"]}"),
        Arguments.of(
            "disabled TLS is left alone",
            "defaultConfig:\n  envoyAccessLogService:\n    address: als.logging.svc:9000\n"
                + "    tlsSettings:\n      mode: DISABLE\n",
            "\"tlsSettings\":{\"mode\":\"DISABLE\"}"),
        Arguments.of(
            "addresses outside the cluster are left alone",
            "defaultConfig:\n  tracing:\n    zipkin:\n      address: zipkin.example.com:9411\n",
            "\"zipkin\":{\"address\":\"zipkin.example.com:9411\"}"),
        Arguments.of(
            "an address set by the workload's annotation is kept as written",
            "",
            "\"discoveryAddress\":\"istiod-x.istio-system.svc:15012\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostnameGateway")
  void hostnameGatewayRewrite(String rule, String meshYaml, String expected) {
    UnaryOperator<Workload.Builder> workload =
        rule.contains("annotation")
            ? w ->
                w.putAnnotations(
                    "proxy.istio.io/config", "discoveryAddress: istiod-x.istio-system.svc:15012")
            : w -> w;
    Bundle bundle =
        build(
            workload,
            m -> m.meshConfig(mesh(meshYaml)).gateway(GatewayAddress.of("gw.example.com")));
    assertThat(EnvFiles.sidecarEnv(bundle).get("PROXY_CONFIG")).contains(expected);
    assertThat(launch(bundle).hostAliases()).isEmpty();
  }

  @Test
  void hostnameGatewayPointsAClusterLocalCaAtTheGatewayWithItsSni() {
    Bundle bundle =
        build(
            w -> w,
            m ->
                m.values(values().caAddress("istio-csr.cert-manager.svc:443").build())
                    .gateway(GatewayAddress.of("gw.example.com")));
    assertThat(EnvFiles.sidecarEnv(bundle))
        .containsEntry("CA_ADDR", "gw.example.com:443")
        .containsEntry("CA_SNI", "istiod.istio-system.svc")
        .containsEntry("PILOT_SNI", "istiod.istio-system.svc");
  }

  private static Arguments row(
      String rule,
      UnaryOperator<Workload.Builder> workload,
      UnaryOperator<MeshSnapshot.Builder> mesh,
      String name,
      String expected) {
    return Arguments.of(rule, workload, mesh, name, expected);
  }

  static Bundle build(
      UnaryOperator<Workload.Builder> workload, UnaryOperator<MeshSnapshot.Builder> mesh) {
    return ContainerBundleFactory.create()
        .build(
            workload.apply(entry()).build(),
            mesh.apply(MeshSnapshot.builder().from(TestMeshes.typical())).build());
  }

  static ContainerLaunch launch(Bundle bundle) {
    return (ContainerLaunch) bundle.launch();
  }

  static InstallValues.Builder values() {
    return InstallValues.builder().tag("1.9.0");
  }

  static Map<String, Object> mesh(String yaml) {
    return IstioConfig.parseMeshConfig(yaml, "test mesh");
  }

  private static String instanceIp() {
    return "sidecar-bootstrap.istio.io/proxy-instance-ip";
  }
}
