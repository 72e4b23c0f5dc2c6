package dev.vmonboard.core.bundle;

import static dev.vmonboard.core.bundle.BundleFixtures.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.TestMeshes;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every value that would corrupt {@code sidecar.env} or {@code cluster.env}, break a command or
 * give a proxy that cannot start is refused by both factories (where it applies) with an {@link
 * InvalidInputException} that names the key at fault and the workload, and nothing is built.
 */
class RefusalTest {

  private static final BundleFactory CONTAINER = ContainerBundleFactory.create();
  private static final BundleFactory SYSTEMD = SystemdBundleFactory.create();

  static Stream<Arguments> badWorkloadValues() {
    return Stream.of(
        bad(
            "a spec label value with a newline",
            w -> w.putLabels("team", "a\nEVIL=1"),
            "spec.labels.team"),
        bad(
            "a metadata label value with a NUL",
            w -> w.putMetadataLabels("team", "a\0b"),
            "metadata.labels.team"),
        bad(
            "an interception mode with a newline",
            w -> w.putAnnotations("sidecar.istio.io/interceptionMode", "NONE\nEVIL=1"),
            "sidecar.istio.io/interceptionMode"),
        bad(
            "an unknown interception mode",
            w -> w.putAnnotations("sidecar.istio.io/interceptionMode", "SOMETIMES"),
            "sidecar.istio.io/interceptionMode"),
        bad(
            "a log level with a NUL",
            w -> w.putAnnotations("sidecar.istio.io/logLevel", "info\0"),
            "sidecar.istio.io/logLevel"),
        bad(
            "an unknown log level",
            w -> w.putAnnotations("sidecar.istio.io/logLevel", "loud"),
            "sidecar.istio.io/logLevel"),
        bad(
            "a component log level that is not component:level",
            w -> w.putAnnotations("sidecar.istio.io/componentLogLevel", "misc=info; rm -rf /"),
            "sidecar.istio.io/componentLogLevel"),
        bad(
            "a proxy image with a space",
            w -> w.putAnnotations("sidecar.istio.io/proxyImage", "evil --privileged"),
            "sidecar.istio.io/proxyImage"),
        bad(
            "a proxy image that reads as an option",
            w -> w.putAnnotations("sidecar.istio.io/proxyImage", "--privileged"),
            "sidecar.istio.io/proxyImage"),
        bad(
            "a proxy image hub with a newline",
            w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-image-hub", "hub\n"),
            "sidecar-bootstrap.istio.io/proxy-image-hub"),
        bad(
            "a container name with a slash",
            w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-container-name", "a/b"),
            "sidecar-bootstrap.istio.io/proxy-container-name"),
        bad(
            "a container name that reads as an option",
            w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-container-name", "-rm"),
            "sidecar-bootstrap.istio.io/proxy-container-name"),
        bad(
            "a proxy instance IP that is not an IP",
            w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-instance-ip", "10.0.0.4\nX=1"),
            "sidecar-bootstrap.istio.io/proxy-instance-ip"),
        bad(
            "an address that is a name, without a proxy instance IP",
            w -> w.address("vm1.example.com"),
            "spec.address"),
        bad(
            "a ProxyConfig annotation that is not YAML",
            w -> w.putAnnotations("proxy.istio.io/config", "concurrency: [3"),
            "proxy.istio.io/config"),
        bad(
            "a ProxyConfig annotation that is not a mapping",
            w -> w.putAnnotations("proxy.istio.io/config", "- concurrency"),
            "proxy.istio.io/config"),
        bad(
            "a proxyMetadata value with a newline",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  A: \"x\\nEVIL=1\"\n"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "a proxyMetadata value with a carriage return",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  A: \"x\\r\"\n"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "a proxyMetadata value with an unpaired surrogate",
            w ->
                w.putAnnotations(
                    "proxy.istio.io/config", "{\"proxyMetadata\": {\"A\": \"x\\ud800\"}}"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "a proxyMetadata name that is not a variable name",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  \"A B=1\": x\n"),
            "proxy.istio.io/config proxyMetadata"),
        bad(
            "a proxyMetadata value that is a mapping",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  A:\n    b: c\n"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "proxyMetadata that is not a mapping",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata: [a]\n"),
            "proxy.istio.io/config proxyMetadata"),
        bad(
            "a negative concurrency",
            w -> w.putAnnotations("proxy.istio.io/config", "concurrency: -1"),
            "proxy.istio.io/config concurrency"),
        bad(
            "a concurrency that is not a number",
            w -> w.putAnnotations("proxy.istio.io/config", "concurrency: many"),
            "proxy.istio.io/config concurrency"),
        bad(
            "a serviceCluster with a newline",
            w -> w.putAnnotations("proxy.istio.io/config", "serviceCluster: \"a\\nb\""),
            "serviceCluster (ProxyConfig)"),
        bad(
            "a discovery address with a newline",
            w -> w.putAnnotations("proxy.istio.io/config", "discoveryAddress: \"a:1\\nEVIL=1\""),
            "discoveryAddress (ProxyConfig)"));
  }

  @ParameterizedTest(name = "container style refuses {0}")
  @MethodSource("badWorkloadValues")
  void containerStyleRefuses(String what, UnaryOperator<Workload.Builder> change, String field) {
    assertRefused(CONTAINER, change.apply(entry()).build(), TestMeshes.typical(), field);
  }

  static Stream<Arguments> badSystemdValues() {
    return Stream.of(
        bad(
            "a spec label value with a newline",
            w -> w.putLabels("team", "a\nEVIL=1"),
            "spec.labels.team"),
        bad(
            "a metadata label value with a NUL",
            w -> w.putMetadataLabels("team", "a\0b"),
            "metadata.labels.team"),
        bad(
            "a proxy instance IP that is not an IP",
            w -> w.putAnnotations("sidecar-bootstrap.istio.io/proxy-instance-ip", "ten"),
            "sidecar-bootstrap.istio.io/proxy-instance-ip"),
        bad(
            "a ProxyConfig annotation that is not YAML",
            w -> w.putAnnotations("proxy.istio.io/config", "a: [1"),
            "proxy.istio.io/config"),
        bad(
            "a proxyMetadata value with a newline",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  A: \"x\\nEVIL=1\"\n"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "a proxyMetadata value with a NUL",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  A: \"x\\0\"\n"),
            "proxy.istio.io/config proxyMetadata.A"),
        bad(
            "a proxyMetadata name that is not a variable name",
            w -> w.putAnnotations("proxy.istio.io/config", "proxyMetadata:\n  \"$(id)\": x\n"),
            "proxy.istio.io/config proxyMetadata"),
        bad(
            "a status port that is not a number",
            w -> w.putAnnotations("proxy.istio.io/config", "statusPort: high"),
            "statusPort (ProxyConfig)"),
        bad(
            "a discovery address with a newline",
            w -> w.putAnnotations("proxy.istio.io/config", "discoveryAddress: \"a:1\\nEVIL=1\""),
            "discoveryAddress (ProxyConfig)"));
  }

  @ParameterizedTest(name = "systemd style refuses {0}")
  @MethodSource("badSystemdValues")
  void systemdStyleRefuses(String what, UnaryOperator<Workload.Builder> change, String field) {
    assertRefused(SYSTEMD, change.apply(entry()).build(), TestMeshes.typical(), field);
  }

  static Stream<Arguments> badMeshValues() {
    return Stream.of(
        badMesh(
            "mesh proxyMetadata with a NUL",
            m ->
                m.meshConfig(
                    IstioConfig.parseMeshConfig(
                        "defaultConfig:\n  proxyMetadata:\n    A: \"\\0\"\n", "t")),
            "MeshConfig defaultConfig proxyMetadata.A"),
        badMesh(
            "mesh-expansion proxyMetadata with a carriage return",
            m -> m.meshExpansionProxyConfig(Map.of("proxyMetadata", Map.of("A", "x\r"))),
            "mesh-expansion PROXY_CONFIG proxyMetadata.A"),
        badMesh(
            "jwtPolicy first-party-jwt",
            m -> m.values(values().jwtPolicy("first-party-jwt").build()),
            "global.jwtPolicy"),
        badMesh(
            "pilotCertProvider kubernetes",
            m -> m.values(values().pilotCertProvider("kubernetes").build()),
            "global.pilotCertProvider"),
        badMesh(
            "a cluster name with a newline",
            m -> m.values(values().clusterName("east\nEVIL=1").build()),
            "global.multiCluster.clusterName"),
        badMesh(
            "a network with a space",
            m -> m.values(values().network("a b").build()),
            "global.network"),
        badMesh(
            "a mesh id with a NUL", m -> m.values(values().meshId("m\0").build()), "global.meshID"),
        badMesh(
            "a trust domain with a newline",
            m -> m.values(values().trustDomain("cluster.local\nX=1").build()),
            "trust domain (MeshConfig trustDomain or global.trustDomain)"),
        badMesh(
            "a root certificate that is no certificate",
            m -> m.rootCertificate(""),
            "root certificate (istio-ca-root-cert root-cert.pem)"),
        badMesh(
            "a CA address with a newline",
            m -> m.values(values().caAddress("ca:1\nX=1").build()),
            "global.caAddress"));
  }

  @ParameterizedTest(name = "container style refuses {0}")
  @MethodSource("badMeshValues")
  void containerStyleRefusesMesh(
      String what, UnaryOperator<MeshSnapshot.Builder> change, String field) {
    assertRefused(CONTAINER, entry().build(), change.apply(typical()).build(), field);
  }

  @ParameterizedTest(name = "systemd style refuses {0}")
  @MethodSource("badMeshValues")
  void systemdStyleRefusesMesh(
      String what, UnaryOperator<MeshSnapshot.Builder> change, String field) {
    assertRefused(SYSTEMD, entry().build(), change.apply(typical()).build(), field);
  }

  static Stream<Arguments> badImageValues() {
    return Stream.of(
        badMesh(
            "a hub with a space",
            m -> m.values(values().hub("docker.io/istio; id").build()),
            "global.hub"),
        badMesh("a tag with a newline", m -> m.values(values().tag("1.9\n").build()), "global.tag"),
        badMesh(
            "a proxy image that reads as an option",
            m -> m.values(values().proxyImage("-v").build()),
            "global.proxy.image"),
        badMesh(
            "an unknown log level",
            m -> m.values(values().logLevel("chatty").build()),
            "global.proxy.logLevel"),
        badMesh(
            "a component log level with a space",
            m -> m.values(values().componentLogLevel("misc: info").build()),
            "global.proxy.componentLogLevel"));
  }

  @ParameterizedTest(name = "container style refuses {0}")
  @MethodSource("badImageValues")
  void containerStyleRefusesImageValues(
      String what, UnaryOperator<MeshSnapshot.Builder> change, String field) {
    assertRefused(CONTAINER, entry().build(), change.apply(typical()).build(), field);
  }

  @Test
  void containerStyleRefusesAWorkloadGroup() {
    assertRefused(CONTAINER, BundleFixtures.group(), TestMeshes.typical(), "kind");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    Workload workload =
        entry()
            .putAnnotations("sidecar.istio.io/logLevel", "loud")
            .putAnnotations("sidecar.istio.io/interceptionMode", "X")
            .putLabels("team", "a\nb")
            .build();
    InvalidInputException refused =
        catchThrowableOfType(
            InvalidInputException.class, () -> CONTAINER.build(workload, TestMeshes.typical()));
    assertThat(refused.problems())
        .extracting(Problem::field)
        .contains(
            "sidecar.istio.io/logLevel", "sidecar.istio.io/interceptionMode", "spec.labels.team");
  }

  @Test
  void aMultiLineProxyConfigIsNotRefused() {
    Workload workload =
        entry()
            .putAnnotations("proxy.istio.io/config", "concurrency: 2\nproxyMetadata:\n  A: b\n")
            .build();
    assertThat(CONTAINER.build(workload, TestMeshes.typical()).files()).isNotEmpty();
    assertThat(SYSTEMD.build(workload, TestMeshes.typical()).files()).isNotEmpty();
  }

  @Test
  void builderOptionsAreChecked() {
    assertThatThrownBy(() -> ContainerBundleFactory.builder().concurrency(-1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("concurrency");
    assertThatThrownBy(() -> ContainerBundleFactory.builder().logLevel("loud\n"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("logLevel");
    assertThatThrownBy(() -> ContainerBundleFactory.builder().componentLogLevel("all"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("componentLogLevel");
  }

  private static void assertRefused(
      BundleFactory factory, Workload workload, MeshSnapshot mesh, String field) {
    InvalidInputException refused =
        catchThrowableOfType(InvalidInputException.class, () -> factory.build(workload, mesh));
    assertThat(refused).as("refused").isNotNull();
    assertThat(refused.problems()).extracting(Problem::field).contains(field);
    assertThat(refused.workload()).contains(workload.ref());
    assertThat(refused.getMessage())
        .startsWith(workload.ref() + ": ")
        .contains(field)
        .doesNotContain("\n")
        .doesNotContain("\0")
        .doesNotContain("\r");
  }

  private static Arguments bad(String what, UnaryOperator<Workload.Builder> change, String field) {
    return Arguments.of(what, change, field);
  }

  private static Arguments badMesh(
      String what, UnaryOperator<MeshSnapshot.Builder> change, String field) {
    return Arguments.of(what, change, field);
  }

  private static MeshSnapshot.Builder typical() {
    return MeshSnapshot.builder().from(TestMeshes.typical());
  }

  private static InstallValues.Builder values() {
    return InstallValues.builder().tag("1.9.0");
  }
}
