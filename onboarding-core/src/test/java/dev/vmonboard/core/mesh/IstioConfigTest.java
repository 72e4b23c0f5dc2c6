package dev.vmonboard.core.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reading and writing Istio's configuration texts. */
class IstioConfigTest {

  @Test
  void builtInProxyConfigIsIstiosForTheNamespaceAndRevision() {
    Map<String, Object> config = IstioConfig.builtInProxyConfig("mesh-cp", Optional.of("canary"));
    assertThat(config)
        .containsEntry("discoveryAddress", "istiod-canary.mesh-cp.svc:15012")
        .containsEntry("statusPort", 15020)
        .containsEntry("proxyAdminPort", 15000)
        .containsEntry("drainDuration", "45s")
        .containsEntry("tracing", Map.of("zipkin", Map.of("address", "zipkin.mesh-cp:9411")));
  }

  @Test
  void emptyTextIsAnEmptyConfiguration() {
    assertThat(IstioConfig.parseMeshConfig("", "m")).isEmpty();
    assertThat(IstioConfig.parseMeshConfig("  \n", "m")).isEmpty();
    assertThat(IstioConfig.parseProxyConfig(null, "p")).isEmpty();
  }

  @Test
  void proxyConfigMayBeJson() {
    assertThat(IstioConfig.parseProxyConfig("{\"concurrency\": 3}", "p"))
        .containsEntry("concurrency", 3);
  }

  @Test
  void malformedTextIsRefusedNamingItsSource() {
    InvalidInputException refused =
        catchThrowableOfType(
            InvalidInputException.class,
            () -> IstioConfig.parseMeshConfig("defaultConfig: [", "ConfigMap istio-system/istio"));
    assertThat(refused.problems())
        .extracting(Problem::field)
        .containsExactly("ConfigMap istio-system/istio");
  }

  @Test
  void aListIsNotAConfiguration() {
    InvalidInputException refused =
        catchThrowableOfType(
            InvalidInputException.class, () -> IstioConfig.parseProxyConfig("- a", "annotation"));
    assertThat(refused).hasMessageContaining("is not a mapping (found a list)");
  }

  @Test
  void installValuesKeepIstiosDefaultsForWhatIsAbsent() {
    InstallValues values =
        IstioConfig.parseValues(
            "{\"global\":{\"hub\":\"gcr.io/istio\",\"meshID\":\"m1\","
                + "\"multiCluster\":{\"clusterName\":\"east\"},\"proxy\":{\"logLevel\":\"debug\"}},"
                + "\"revision\":\"canary\"}",
            "values");
    assertThat(values.hub()).isEqualTo("gcr.io/istio");
    assertThat(values.meshId()).contains("m1");
    assertThat(values.clusterName()).contains("east");
    assertThat(values.logLevel()).isEqualTo("debug");
    assertThat(values.revision()).contains("canary");
    assertThat(values.tag()).isEqualTo("latest");
    assertThat(values.proxyImage()).isEqualTo("proxyv2");
    assertThat(values.componentLogLevel()).isEqualTo("misc:info");
    assertThat(values.trustDomain()).isEqualTo("cluster.local");
    assertThat(values.jwtPolicy()).isEqualTo("third-party-jwt");
    assertThat(values.caAddress()).isEmpty();
  }

  @Test
  void deepMergeMergesMapsAndReplacesEverythingElse() {
    Map<String, Object> base = new LinkedHashMap<>();
    base.put("a", Map.of("x", 1, "y", 2));
    base.put("list", List.of(1, 2));
    base.put("keep", "base");
    Map<String, Object> merged =
        IstioConfig.deepMerge(base, Map.of("a", Map.of("y", 3), "list", List.of(9)));
    assertThat(merged)
        .containsEntry("a", Map.of("x", 1, "y", 3))
        .containsEntry("list", List.of(9))
        .containsEntry("keep", "base");
    assertThat(base).containsEntry("a", Map.of("x", 1, "y", 2));
  }

  @Test
  void yamlHasNoDocumentMarkerAndQuotesEveryString() {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("PORT", "8080");
    metadata.put("TIME", "12:30");
    metadata.put("FLAG", "on");
    metadata.put("HEX", "0x1F");
    String yaml = IstioConfig.toYaml(Map.of("defaultConfig", Map.of("proxyMetadata", metadata)));
    assertThat(yaml)
        .isEqualTo(
            "defaultConfig:\n  proxyMetadata:\n    PORT: \"8080\"\n    TIME: \"12:30\"\n"
                + "    FLAG: \"on\"\n    HEX: \"0x1F\"\n");
    assertThat(IstioConfig.parseMeshConfig(yaml, "round trip"))
        .isEqualTo(Map.of("defaultConfig", Map.of("proxyMetadata", metadata)));
  }

  @Test
  void longValuesStayOnOneLine() {
    String long120 = "x".repeat(60) + " " + "y".repeat(60);
    assertThat(IstioConfig.toYaml(Map.of("k", long120))).isEqualTo("k: \"" + long120 + "\"\n");
  }

  @Test
  void compactJsonKeepsTheMapsOrder() {
    Map<String, Object> tree = new LinkedHashMap<>();
    tree.put("b", 1);
    tree.put("a", Map.of("c", "d"));
    assertThat(IstioConfig.toCompactJson(tree)).isEqualTo("{\"b\":1,\"a\":{\"c\":\"d\"}}");
  }
}
