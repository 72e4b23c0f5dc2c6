package dev.vmonboard.core.bundle;

import static dev.vmonboard.core.bundle.BundleFixtures.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.TestMeshes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rules of the systemd style (domain reference, section 5), one behaviour per row, on a
 * WorkloadGroup {@code vm-apps/backend-group} unless a row says otherwise.
 */
class SystemdBundleFactoryTest {

  static Stream<Arguments> variables() {
    return Stream.of(
        row(
            "ISTIO_INBOUND_PORTS is * without ports",
            w -> w.ports(Map.of()),
            m -> m,
            "ISTIO_INBOUND_PORTS",
            "*"),
        row(
            "ISTIO_INBOUND_PORTS lists one number per named port, ascending",
            w -> w.putPorts("grpc", 9090).putPorts("metrics", 8080).putPorts("admin", 81),
            m -> m,
            "ISTIO_INBOUND_PORTS",
            "81,8080,8080,9090"),
        row(
            "ISTIO_META_POD_PORTS lists the named ports sorted by name",
            w -> w.putPorts("grpc", 9090),
            m -> m,
            "ISTIO_META_POD_PORTS",
            "[{\"name\":\"grpc\",\"containerPort\":9090,\"protocol\":\"\"},"
                + "{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"\"}]"),
        row(
            "ISTIO_LOCAL_EXCLUDE_PORTS adds 15020 for a status port of 0",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  statusPort: 0")),
            "ISTIO_LOCAL_EXCLUDE_PORTS",
            "22,15090,15021,15020"),
        row(
            "ISTIO_LOCAL_EXCLUDE_PORTS adds nothing for a status port of 15021",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  statusPort: 15021")),
            "ISTIO_LOCAL_EXCLUDE_PORTS",
            "22,15090,15021"),
        row(
            "ISTIO_LOCAL_EXCLUDE_PORTS keeps SSH and the proxy's ports",
            w -> w,
            m -> m,
            "ISTIO_LOCAL_EXCLUDE_PORTS",
            "22,15090,15021,15020"),
        row(
            "ISTIO_LOCAL_EXCLUDE_PORTS follows a configured status port",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  statusPort: 15030")),
            "ISTIO_LOCAL_EXCLUDE_PORTS",
            "22,15090,15021,15030"),
        row("ISTIO_NAMESPACE is the namespace", w -> w, m -> m, "ISTIO_NAMESPACE", "vm-apps"),
        row(
            "ISTIO_SERVICE is name.namespace",
            w -> w,
            m -> m,
            "ISTIO_SERVICE",
            "backend-group.vm-apps"),
        row("ISTIO_SERVICE_CIDR captures everything", w -> w, m -> m, "ISTIO_SERVICE_CIDR", "*"),
        row("SERVICE_ACCOUNT is the template's", w -> w, m -> m, "SERVICE_ACCOUNT", "backend-sa"),
        row("POD_NAMESPACE is the namespace", w -> w, m -> m, "POD_NAMESPACE", "vm-apps"),
        row(
            "TRUST_DOMAIN is the mesh's",
            w -> w,
            m -> m.meshConfig(mesh("trustDomain: corp.local")),
            "TRUST_DOMAIN",
            "corp.local"),
        row(
            "TRUST_DOMAIN is else empty (no default, not global.trustDomain)",
            w -> w,
            m -> m.values(values().trustDomain("values.local").build()),
            "TRUST_DOMAIN",
            ""),
        row("ISTIO_META_CLUSTER_ID is else empty", w -> w, m -> m, "ISTIO_META_CLUSTER_ID", ""),
        row(
            "ISTIO_META_CLUSTER_ID is the cluster name",
            w -> w,
            m -> m.values(values().clusterName("east").build()),
            "ISTIO_META_CLUSTER_ID",
            "east"),
        row(
            "ISTIO_META_MESH_ID is defaultConfig.meshId",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  meshId: mesh1\n")),
            "ISTIO_META_MESH_ID",
            "mesh1"),
        row(
            "ISTIO_META_MESH_ID is the annotation's meshId over the mesh's",
            w -> w.putAnnotations("proxy.istio.io/config", "meshId: mesh2\n"),
            m -> m.meshConfig(mesh("defaultConfig:\n  meshId: mesh1\n")),
            "ISTIO_META_MESH_ID",
            "mesh2"),
        row(
            "ISTIO_META_MESH_ID is else empty (global.meshID is not read)",
            w -> w,
            m -> m.values(values().meshId("mesh1").build()),
            "ISTIO_META_MESH_ID",
            ""),
        row(
            "ISTIO_META_NETWORK is spec.network",
            w -> w,
            m -> m,
            "ISTIO_META_NETWORK",
            "vm-network"),
        row(
            "ISTIO_META_NETWORK is else empty (global.network is not read)",
            w -> w.network(java.util.Optional.empty()),
            m -> m.values(values().network("cluster-net").build()),
            "ISTIO_META_NETWORK",
            ""),
        row(
            "ISTIO_META_WORKLOAD_NAME is the group's name",
            w -> w,
            m -> m,
            "ISTIO_META_WORKLOAD_NAME",
            "backend-group"),
        row(
            "ISTIO_META_DNS_CAPTURE is on by default",
            w -> w,
            m -> m,
            "ISTIO_META_DNS_CAPTURE",
            "true"),
        row(
            "ISTIO_META_DNS_CAPTURE on wins over proxyMetadata",
            w ->
                w.putAnnotations(
                    "proxy.istio.io/config",
                    "proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: \"false\"\n"),
            m -> m,
            "ISTIO_META_DNS_CAPTURE",
            "true"),
        row(
            "CANONICAL_SERVICE is the canonical-name label first",
            w ->
                w.putLabels("service.istio.io/canonical-name", "shop")
                    .putLabels("app.kubernetes.io/name", "k8s"),
            m -> m,
            "CANONICAL_SERVICE",
            "shop"),
        row(
            "CANONICAL_SERVICE is else app.kubernetes.io/name",
            w -> w.putLabels("app.kubernetes.io/name", "k8s"),
            m -> m,
            "CANONICAL_SERVICE",
            "k8s"),
        row(
            "CANONICAL_SERVICE takes a present but empty label",
            w -> w.putLabels("service.istio.io/canonical-name", ""),
            m -> m,
            "CANONICAL_SERVICE",
            ""),
        row(
            "CANONICAL_SERVICE is else the app label",
            w -> w,
            m -> m,
            "CANONICAL_SERVICE",
            "backend"),
        row(
            "CANONICAL_SERVICE is else the workload's name",
            w -> Workload.builder().from(w.build()).labels(Map.of()),
            m -> m,
            "CANONICAL_SERVICE",
            "backend-group"),
        row(
            "CANONICAL_REVISION is the canonical-revision label first",
            w ->
                w.putLabels("service.istio.io/canonical-revision", "r1").putLabels("version", "v1"),
            m -> m,
            "CANONICAL_REVISION",
            "r1"),
        row(
            "CANONICAL_REVISION is else app.kubernetes.io/version",
            w -> w.putLabels("app.kubernetes.io/version", "2.0").putLabels("version", "v1"),
            m -> m,
            "CANONICAL_REVISION",
            "2.0"),
        row(
            "CANONICAL_REVISION is else the version label",
            w -> w.putLabels("version", "v1"),
            m -> m,
            "CANONICAL_REVISION",
            "v1"),
        row("CANONICAL_REVISION is else latest", w -> w, m -> m, "CANONICAL_REVISION", "latest"),
        row(
            "ISTIO_METAJSON_LABELS adds the canonical labels",
            w -> w,
            m -> m,
            "ISTIO_METAJSON_LABELS",
            "{\"app\":\"backend\",\"service.istio.io/canonical-name\":\"backend\","
                + "\"service.istio.io/canonical-revision\":\"latest\"}"),
        row(
            "CA_ADDR is istiod of the revision",
            w -> w,
            m -> m.revision("canary"),
            "CA_ADDR",
            "istiod-canary.istio-system.svc:15012"),
        row(
            "CA_ADDR is the revision's istiod even with global.caAddress",
            w -> w,
            m ->
                m.revision("canary")
                    .values(values().caAddress("istio-csr.cert-manager.svc:443").build()),
            "CA_ADDR",
            "istiod-canary.istio-system.svc:15012"),
        row(
            "proxyMetadata of the mesh is kept",
            w -> w,
            m -> m.meshConfig(mesh("defaultConfig:\n  proxyMetadata:\n    ONLY: mesh\n")),
            "ONLY",
            "mesh"),
        row(
            "proxyMetadata of the template's annotation wins over the object's",
            w ->
                w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  LEVEL: template\n")
                    .putMetadataAnnotations(
                        "proxy.istio.io/config",
                        "proxyMetadata:\n  LEVEL: object\n  OBJECT: kept\n"),
            m -> m.meshConfig(mesh("defaultConfig:\n  proxyMetadata:\n    LEVEL: mesh\n")),
            "LEVEL",
            "template"),
        row(
            "proxyMetadata of the object's annotation is merged key by key",
            w ->
                w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  LEVEL: template\n")
                    .putMetadataAnnotations(
                        "proxy.istio.io/config", "proxyMetadata:\n  OBJECT: kept\n"),
            m -> m,
            "OBJECT",
            "kept"),
        row(
            "proxyMetadata of the workload wins over the mesh's",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  LEVEL: workload\n"),
            m -> m.meshConfig(mesh("defaultConfig:\n  proxyMetadata:\n    LEVEL: mesh\n")),
            "LEVEL",
            "workload"),
        row(
            "proxyMetadata of the expansion overrides sits between the two",
            w -> w,
            m ->
                m.meshConfig(mesh("defaultConfig:\n  proxyMetadata:\n    LEVEL: mesh\n"))
                    .meshExpansionProxyConfig(
                        Map.of("proxyMetadata", Map.of("LEVEL", "expansion"))),
            "LEVEL",
            "expansion"),
        row(
            "derived keys win over proxyMetadata",
            w ->
                w.putAnnotations(
                    "proxy.istio.io/config", "proxyMetadata:\n  SERVICE_ACCOUNT: other\n"),
            m -> m,
            "SERVICE_ACCOUNT",
            "backend-sa"),
        row(
            "ISTIO_SVC_IP is a WorkloadEntry's IP",
            w -> entry(),
            m -> m,
            "ISTIO_SVC_IP",
            "10.0.0.4"),
        row(
            "ISTIO_SVC_IP is the proxy-instance-ip annotation when set",
            w ->
                entry()
                    .putAnnotations("sidecar-bootstrap.istio.io/proxy-instance-ip", "172.31.0.7"),
            m -> m,
            "ISTIO_SVC_IP",
            "172.31.0.7"),
        row(
            "ISTIO_META_WORKLOAD_NAME of a WorkloadEntry is its name",
            w -> entry(),
            m -> m,
            "ISTIO_META_WORKLOAD_NAME",
            "backend-vm-1"),
        row(
            "ISTIO_SERVICE of a WorkloadEntry is its name.namespace",
            w -> entry(),
            m -> m,
            "ISTIO_SERVICE",
            "backend-vm-1.vm-apps"),
        row(
            "CA_ADDR of a revision stays istiod's behind a host-name gateway",
            w -> w,
            m ->
                m.revision("canary")
                    .gateway(GatewayAddress.of("gw.example.com"))
                    .ingress(GatewayAddress.of("gw.example.com")),
            "CA_ADDR",
            "istiod-canary.istio-system.svc:15012"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variables")
  void variable(
      String rule,
      UnaryOperator<Workload.Builder> workload,
      UnaryOperator<MeshSnapshot.Builder> mesh,
      String name,
      String expected) {
    assertThat(EnvFiles.clusterEnv(build(workload, mesh))).containsEntry(name, expected);
  }

  static Stream<Arguments> absent() {
    return Stream.of(
        Arguments.of(
            "no CA_ADDR without a revision", (UnaryOperator<Workload.Builder>) w -> w, "CA_ADDR"),
        Arguments.of(
            "no ISTIO_META_POD_PORTS without ports",
            (UnaryOperator<Workload.Builder>) w -> w.ports(Map.of()),
            "ISTIO_META_POD_PORTS"),
        Arguments.of(
            "no REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION without an external IP",
            (UnaryOperator<Workload.Builder>) w -> w,
            "REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION"),
        Arguments.of(
            "no CA_SNI (istioctl writes none)", (UnaryOperator<Workload.Builder>) w -> w, "CA_SNI"),
        Arguments.of(
            "no ISTIO_SVC_IP for a group",
            (UnaryOperator<Workload.Builder>) w -> w,
            "ISTIO_SVC_IP"),
        Arguments.of(
            "no SNI with an IP gateway", (UnaryOperator<Workload.Builder>) w -> w, "PILOT_SNI"),
        Arguments.of(
            "no auto-registration without the option, even for a group marked for it",
            (UnaryOperator<Workload.Builder>) w -> w.autoRegister(true),
            "ISTIO_META_AUTO_REGISTER_GROUP"),
        Arguments.of(
            "no auto-registration for a WorkloadEntry",
            (UnaryOperator<Workload.Builder>) w -> entry().autoRegister(true),
            "ISTIO_META_AUTO_REGISTER_GROUP"),
        Arguments.of(
            "no ISTIO_SVC_IP for a group, even with proxy-instance-ip (it stands for many VMs)",
            (UnaryOperator<Workload.Builder>)
                w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-instance-ip", "10.0.0.9"),
            "ISTIO_SVC_IP"),
        Arguments.of(
            "no ISTIO_SVC_IP for an entry known by name",
            (UnaryOperator<Workload.Builder>) w -> entry().address("vm1.example.com"),
            "ISTIO_SVC_IP"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("absent")
  void variableAbsent(String rule, UnaryOperator<Workload.Builder> workload, String name) {
    assertThat(EnvFiles.clusterEnv(build(workload, m -> m))).doesNotContainKey(name);
  }

  @Test
  void istioctlOptionsOfTheFactory() {
    Map<String, String> env =
        EnvFiles.clusterEnv(
            SystemdBundleFactory.builder()
                .autoRegister(true)
                .clusterId("east-1")
                .internalIp("10.1.2.3")
                .build()
                .build(group().build(), TestMeshes.typical()));
    assertThat(env)
        .containsEntry("ISTIO_META_AUTO_REGISTER_GROUP", "backend-group")
        .containsEntry("ISTIO_META_CLUSTER_ID", "east-1")
        .containsEntry("ISTIO_SVC_IP", "10.1.2.3")
        .doesNotContainKey("REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION");
    Map<String, String> external =
        EnvFiles.clusterEnv(
            SystemdBundleFactory.builder()
                .externalIp("198.51.100.7")
                .clusterId("")
                .build()
                .build(
                    group().build(),
                    MeshSnapshot.builder()
                        .from(TestMeshes.typical())
                        .values(values().clusterName("east").build())
                        .build()));
    assertThat(external)
        .containsEntry("ISTIO_SVC_IP", "198.51.100.7")
        .containsEntry("REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION", "true")
        .containsEntry("ISTIO_META_CLUSTER_ID", "");
  }

  @Test
  void internalAndExternalIpAreMutuallyExclusive() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                SystemdBundleFactory.builder()
                    .internalIp("10.0.0.1")
                    .externalIp("10.0.0.2")
                    .build())
        .hasMessageContaining("internalIP, externalIP")
        .hasMessageContaining("mutually exclusive");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> SystemdBundleFactory.builder().internalIp("10.0.0.1; reboot"))
        .hasMessageContaining("internalIP")
        .hasMessageContaining("not an IP");
  }

  @Test
  void dnsCaptureOffKeepsTheMetadataValue() {
    Bundle bundle =
        SystemdBundleFactory.builder()
            .dnsCapture(false)
            .build()
            .build(
                group()
                    .putAnnotations(
                        "proxy.istio.io/config",
                        "proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: \"x\"\n")
                    .build(),
                TestMeshes.typical());
    assertThat(EnvFiles.clusterEnv(bundle)).containsEntry("ISTIO_META_DNS_CAPTURE", "x");
  }

  @Test
  void rootCertificateIsTheWorkloadNamespacesCopiedAsItIs() {
    Bundle bundle =
        build(
            w -> w,
            m -> m.rootCertificate("").putNamespaceRootCertificates("vm-apps", "fake-CA-cert"));
    assertThat(BundleFixtures.text(bundle, SystemdBundleFactory.ROOT_CERT))
        .isEqualTo("fake-CA-cert");
  }

  @Test
  void dnsCaptureCanBeTurnedOff() {
    Bundle bundle =
        SystemdBundleFactory.builder()
            .dnsCapture(false)
            .build()
            .build(group().build(), TestMeshes.typical());
    assertThat(EnvFiles.clusterEnv(bundle)).doesNotContainKey("ISTIO_META_DNS_CAPTURE");
  }

  @Test
  void clusterEnvIsSortedAndEveryValueSingleQuoted() {
    String text = BundleFixtures.text(build(w -> w, m -> m), SystemdBundleFactory.CLUSTER_ENV);
    List<String> lines = text.lines().toList();
    assertThat(lines).isSorted().allMatch(line -> line.matches("[A-Z_]+='.*'"));
  }

  @Test
  void clusterEnvReadsBackThroughAShellUnchanged(@TempDir Path temp)
      throws IOException, InterruptedException {
    String tricky = "it's $HOME `id` \"quoted\" \\ back";
    Bundle bundle =
        build(
            w ->
                w.putAnnotations(
                    "proxy.istio.io/config",
                    "proxyMetadata:\n  TRICKY: '" + tricky.replace("'", "''") + "'\n"),
            m -> m);
    Path file = temp.resolve("cluster.env");
    Files.write(file, bundle.file(SystemdBundleFactory.CLUSTER_ENV).orElseThrow().content());
    Process shell =
        new ProcessBuilder("sh", "-c", ". \"$1\"; printf '%s' \"$TRICKY\"", "sh", file.toString())
            .start();
    String read = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(shell.waitFor()).isZero();
    assertThat(read).isEqualTo(tricky);
  }

  static Stream<Arguments> meshYaml() {
    return Stream.of(
        Arguments.of(
            "the mesh's discovery address is kept with a revision",
            (UnaryOperator<Workload.Builder>) w -> w,
            (UnaryOperator<MeshSnapshot.Builder>)
                m ->
                    m.revision("canary")
                        .meshConfig(mesh("defaultConfig:\n  discoveryAddress: other:15012\n")),
            "  discoveryAddress: \"other:15012\"\n"),
        Arguments.of(
            "the annotation's discovery address wins over the revision's",
            (UnaryOperator<Workload.Builder>)
                w -> w.putAnnotations("proxy.istio.io/config", "discoveryAddress: mine:15012\n"),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m.revision("canary"),
            "  discoveryAddress: \"mine:15012\"\n"),
        Arguments.of(
            "the annotation's concurrency is kept",
            (UnaryOperator<Workload.Builder>)
                w -> w.putAnnotations("proxy.istio.io/config", "concurrency: 2\n"),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "  concurrency: 2\n"),
        Arguments.of(
            "an HTTP probe with a port only",
            (UnaryOperator<Workload.Builder>)
                w -> w.readinessProbe(ReadinessProbe.httpGet(8080).initialDelaySeconds(0).build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "  readinessProbe:\n    httpGet:\n      port: 8080\n"),
        Arguments.of(
            "the discovery address follows the revision",
            (UnaryOperator<Workload.Builder>) w -> w,
            (UnaryOperator<MeshSnapshot.Builder>) m -> m.revision("canary"),
            "  discoveryAddress: \"istiod-canary.istio-system.svc:15012\"\n"),
        Arguments.of(
            "other settings of the mesh's defaultConfig are kept",
            (UnaryOperator<Workload.Builder>) w -> w,
            (UnaryOperator<MeshSnapshot.Builder>)
                m ->
                    m.meshConfig(mesh("defaultConfig:\n  holdApplicationUntilProxyStarts: true\n")),
            "  holdApplicationUntilProxyStarts: true\n"),
        Arguments.of(
            "a TCP probe",
            (UnaryOperator<Workload.Builder>)
                w -> w.readinessProbe(ReadinessProbe.tcp(9000).build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "  readinessProbe:\n    tcpSocket:\n      port: 9000\n"),
        Arguments.of(
            "an exec probe with timing",
            (UnaryOperator<Workload.Builder>)
                w ->
                    w.readinessProbe(
                        ReadinessProbe.exec(List.of("/bin/check", "--fast"))
                            .initialDelaySeconds(2)
                            .timeoutSeconds(3)
                            .failureThreshold(4)
                            .successThreshold(1)
                            .build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "  readinessProbe:\n    exec:\n      command:\n      - \"/bin/check\"\n      - \"--fast\"\n"
                + "    failureThreshold: 4\n    initialDelaySeconds: 2\n    successThreshold: 1\n"
                + "    timeoutSeconds: 3\n"),
        Arguments.of(
            "an HTTPS probe keeps its scheme",
            (UnaryOperator<Workload.Builder>)
                w ->
                    w.readinessProbe(
                        ReadinessProbe.httpGet("/health", 8443).httpScheme("HTTPS").build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "    httpGet:\n      path: \"/health\"\n      port: 8443\n      scheme: \"HTTPS\"\n"),
        Arguments.of(
            "an HTTP probe's host and headers, in order",
            (UnaryOperator<Workload.Builder>)
                w ->
                    w.readinessProbe(
                        ReadinessProbe.httpGet("/ready", 8080)
                            .httpHost("10.0.0.9")
                            .addHttpHeaders(new ReadinessProbe.HttpHeader("X-Probe", "vm"))
                            .addHttpHeaders(new ReadinessProbe.HttpHeader("X-Empty", ""))
                            .build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "    httpGet:\n      host: \"10.0.0.9\"\n      httpHeaders:\n      - name: \"X-Probe\"\n"
                + "        value: \"vm\"\n      - name: \"X-Empty\"\n      path: \"/ready\"\n"),
        Arguments.of(
            "a TCP probe's host",
            (UnaryOperator<Workload.Builder>)
                w -> w.readinessProbe(ReadinessProbe.tcp(9000).tcpHost("10.0.0.8").build()),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "    tcpSocket:\n      host: \"10.0.0.8\"\n      port: 9000\n"),
        Arguments.of(
            "metadata that looks like a number stays text",
            (UnaryOperator<Workload.Builder>)
                w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  PORT: 8080\n"),
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "    PORT: \"8080\"\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("meshYaml")
  void meshConfig(
      String rule,
      UnaryOperator<Workload.Builder> workload,
      UnaryOperator<MeshSnapshot.Builder> mesh,
      String expected) {
    String yaml = BundleFixtures.text(build(workload, mesh), SystemdBundleFactory.MESH_CONFIG);
    assertThat(yaml).startsWith("defaultConfig:\n").contains(expected);
    assertThat(IstioConfig.parseMeshConfig(yaml, "mesh.yaml")).containsKey("defaultConfig");
  }

  @Test
  void meshYamlHasNoDiscoveryAddressWithoutARevision() {
    String yaml =
        BundleFixtures.text(
            build(w -> w, m -> m.gateway(GatewayAddress.of("gw.example.com"))),
            SystemdBundleFactory.MESH_CONFIG);
    assertThat(yaml).doesNotContain("discoveryAddress");
  }

  @Test
  void anAnnotationFieldReplacesTheMeshsWholeField() {
    String yaml =
        BundleFixtures.text(
            build(
                w -> w.putAnnotations("proxy.istio.io/config", "tracing:\n  sampling: 10\n"),
                m ->
                    m.meshConfig(
                        mesh("defaultConfig:\n  tracing:\n    zipkin:\n      address: z:9411\n"))),
            SystemdBundleFactory.MESH_CONFIG);
    assertThat(yaml).contains("  tracing:\n    sampling: 10\n").doesNotContain("zipkin");
  }

  @Test
  void meshYamlProxyMetadataEqualsTheDerivedVariables() {
    Bundle bundle = build(w -> w, m -> m);
    Map<String, Object> parsed =
        IstioConfig.parseMeshConfig(
            BundleFixtures.text(bundle, SystemdBundleFactory.MESH_CONFIG), "m");
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata =
        (Map<String, Object>)
            ((Map<String, Object>) parsed.get("defaultConfig")).get("proxyMetadata");
    assertThat(EnvFiles.clusterEnv(bundle)).containsAllEntriesOf(stringValues(metadata));
  }

  static Stream<Arguments> hosts() {
    return Stream.of(
        Arguments.of(
            "istiod of the mesh",
            (UnaryOperator<MeshSnapshot.Builder>) m -> m,
            "203.0.113.10 istiod.istio-system.svc\n"),
        Arguments.of(
            "istiod of the revision",
            (UnaryOperator<MeshSnapshot.Builder>) m -> m.revision("canary"),
            "203.0.113.10 istiod-canary.istio-system.svc\n"),
        Arguments.of(
            "istiod's name only, even with a cluster-local CA",
            (UnaryOperator<MeshSnapshot.Builder>)
                m -> m.values(values().caAddress("istio-csr.cert-manager.svc:443").build()),
            "203.0.113.10 istiod.istio-system.svc\n"),
        Arguments.of(
            "the ingress, not the gateway of the container style",
            (UnaryOperator<MeshSnapshot.Builder>)
                m -> m.ingress(GatewayAddress.of("fd00:10:96::2")),
            "fd00:10:96::2 istiod.istio-system.svc\n"),
        Arguments.of(
            "empty without an ingress, as istioctl writes it",
            (UnaryOperator<MeshSnapshot.Builder>) m -> m.ingress(java.util.Optional.empty()),
            ""),
        Arguments.of(
            "empty for a host-name ingress that did not resolve",
            (UnaryOperator<MeshSnapshot.Builder>)
                m -> m.ingress(GatewayAddress.of("gw.example.com")),
            ""),
        Arguments.of(
            "the resolved IP of a host-name ingress, named in a comment",
            (UnaryOperator<MeshSnapshot.Builder>)
                m ->
                    m.ingress(
                        GatewayAddress.resolved(
                            "gw.example.com", List.of("198.51.100.9", "198.51.100.10"))),
            "# istiod.istio-system.svc through the gateway gw.example.com (resolved when the bundle"
                + " was built)\n198.51.100.9 istiod.istio-system.svc\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hosts")
  void hostsLine(String rule, UnaryOperator<MeshSnapshot.Builder> mesh, String expected) {
    assertThat(BundleFixtures.text(build(w -> w, mesh), SystemdBundleFactory.HOSTS))
        .isEqualTo(expected);
  }

  @Test
  void anEmptyHostsFileIsNotInstalled() {
    Bundle bundle = build(w -> w, m -> m.ingress(GatewayAddress.of("gw.example.com")));
    assertThat(BundleFixtures.text(bundle, SystemdBundleFactory.HOSTS)).isEmpty();
    assertThat(((SystemdLaunch) bundle.launch()).installs())
        .extracting(SystemdLaunch.FileInstall::destination)
        .doesNotContain("/etc/hosts");
  }

  @Test
  void filesAndWhereTheyAreInstalled() {
    Bundle bundle = SystemdBundleFactory.create().build(group().build(), TestMeshes.typical());
    assertThat(bundle.files())
        .extracting(BundleFile::path, BundleFile::mode)
        .containsExactly(
            tuple("cluster.env", 0644),
            tuple("mesh.yaml", 0644),
            tuple("root-cert.pem", 0644),
            tuple("hosts", 0644));
    assertThat(bundle.tokenPath()).isEqualTo("istio-token");
    SystemdLaunch launch = (SystemdLaunch) bundle.launch();
    assertThat(launch.serviceName()).isEqualTo("istio");
    assertThat(launch.installs())
        .extracting(
            SystemdLaunch.FileInstall::source,
            SystemdLaunch.FileInstall::destination,
            SystemdLaunch.FileInstall::owner,
            SystemdLaunch.FileInstall::mode,
            SystemdLaunch.FileInstall::append)
        .containsExactly(
            tuple("root-cert.pem", "/etc/certs/root-cert.pem", "istio-proxy", 0644, false),
            tuple("istio-token", "/var/run/secrets/tokens/istio-token", "istio-proxy", 0600, false),
            tuple("cluster.env", "/var/lib/istio/envoy/cluster.env", "istio-proxy", 0644, false),
            tuple("mesh.yaml", "/etc/istio/config/mesh", "istio-proxy", 0644, false),
            tuple("hosts", "/etc/hosts", "root", 0644, true));
  }

  private static Map<String, String> stringValues(Map<String, Object> map) {
    Map<String, String> text = new java.util.TreeMap<>();
    map.forEach((key, value) -> text.put(key, String.valueOf(value)));
    return text;
  }

  private static Arguments row(
      String rule,
      UnaryOperator<Workload.Builder> workload,
      UnaryOperator<MeshSnapshot.Builder> mesh,
      String name,
      String expected) {
    return Arguments.of(rule, workload, mesh, name, expected);
  }

  /** A WorkloadGroup with network vm-network, app backend, port http 8080. */
  static Workload.Builder group() {
    return Workload.builder()
        .from(BundleFixtures.group())
        .annotations(Map.of())
        .readinessProbe(java.util.Optional.empty());
  }

  static Bundle build(
      UnaryOperator<Workload.Builder> workload, UnaryOperator<MeshSnapshot.Builder> mesh) {
    return SystemdBundleFactory.create()
        .build(
            workload.apply(group()).build(),
            mesh.apply(MeshSnapshot.builder().from(TestMeshes.typical())).build());
  }

  static InstallValues.Builder values() {
    return InstallValues.builder().tag("1.9.0");
  }

  static Map<String, Object> mesh(String yaml) {
    return IstioConfig.parseMeshConfig(yaml, "test mesh");
  }
}
