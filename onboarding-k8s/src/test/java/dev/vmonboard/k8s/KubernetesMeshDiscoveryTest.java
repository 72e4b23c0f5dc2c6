package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KubernetesMeshDiscoveryTest {

  private static final String NS = "istio-system";

  private EmbeddedIstioCluster cluster;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    cluster = EmbeddedIstioCluster.start();
    client = cluster.client();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private MeshSnapshot discover() {
    return KubernetesMeshDiscovery.create(cluster.cluster()).snapshot();
  }

  @Test
  void readsATypicalInstallation() {
    MeshSnapshot mesh = discover();

    assertThat(mesh.istioNamespace()).isEqualTo(NS);
    assertThat(mesh.revision()).isEmpty();
    assertThat(mesh.values().tag()).isEqualTo(TypicalIstio.ISTIO_TAG);
    assertThat(mesh.values().jwtPolicy()).isEqualTo("third-party-jwt");
    assertThat(mesh.rootCertificate()).isEqualTo(cluster.istioRootCertificatePem());
    assertThat(mesh.kubernetesCaCertificate()).contains(cluster.kubernetesCaCertificatePem());
    assertThat(mesh.gateway().orElseThrow().address()).isEqualTo(TypicalIstio.GATEWAY_IP);
    assertThat(mesh.defaultProxyConfig())
        .containsEntry("discoveryAddress", "istiod.istio-system.svc:15012")
        .containsEntry("binaryPath", "/usr/local/bin/envoy");
    assertThat(mesh.meshExpansionProxyConfig()).isEmpty();
  }

  @Test
  void anEmptyMeshMeansIstiosBuiltInDefaults() {
    setData("istio", Map.of("mesh", "", "meshNetworks", ""));

    MeshSnapshot mesh = discover();

    assertThat(mesh.meshConfig()).isEmpty();
    assertThat(mesh.meshNetworks()).isEmpty();
    assertThat(mesh.defaultProxyConfig())
        .isEqualTo(IstioConfig.builtInProxyConfig(NS, java.util.Optional.empty()));
  }

  @Test
  void aPartialMeshKeepsTheRestOfTheDefaults() {
    setData(
        "istio",
        Map.of(
            "mesh",
            "defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: \"true\"\n  statusPort: 15099\n"));

    Map<String, Object> proxy = discover().defaultProxyConfig();

    assertThat(proxy)
        .containsEntry("statusPort", 15099)
        .containsEntry("proxyMetadata", Map.of("ISTIO_META_DNS_CAPTURE", "true"))
        .containsEntry("drainDuration", "45s")
        .containsEntry("discoveryAddress", "istiod.istio-system.svc:15012");
  }

  @Test
  void readsTheConfigMapsOfARevision() {
    create(
        "istio-1-22",
        Map.of("mesh", "defaultConfig:\n  discoveryAddress: istiod-1-22.istio-system.svc:15012\n"));
    create(
        "istio-sidecar-injector-1-22",
        Map.of("values", "{\"global\":{\"tag\":\"1.22.9\"},\"revision\":\"1-22\"}"));

    MeshSnapshot mesh =
        KubernetesMeshDiscovery.builder(cluster.cluster()).revision("1-22").build().snapshot();

    assertThat(mesh.revision()).contains("1-22");
    assertThat(mesh.istiodHost()).isEqualTo("istiod-1-22.istio-system.svc");
    assertThat(mesh.values().tag()).isEqualTo("1.22.9");
    assertThat(mesh.values().revision()).contains("1-22");
    assertThat(mesh.defaultProxyConfig())
        .containsEntry("discoveryAddress", "istiod-1-22.istio-system.svc:15012");
  }

  @Test
  void refusesAnUnknownRevisionListingTheInstalledOnes() {
    create("istio-1-22", Map.of("mesh", ""));

    assertThatThrownBy(
            () ->
                KubernetesMeshDiscovery.builder(cluster.cluster())
                    .revision("canary")
                    .build()
                    .snapshot())
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("revision 'canary' is not installed in istio-system")
        .hasMessageContaining("no ConfigMap istio-system/istio-canary")
        .hasMessageContaining("installed revisions: [1-22, default (no revision)]");
  }

  @Test
  void prefersTheMeshNetworksGatewayOfTheClustersNetwork() {
    setData("istio-sidecar-injector", Map.of("values", "{\"global\":{\"network\":\"net1\"}}"));
    setData(
        "istio",
        Map.of(
            "mesh",
            "",
            "meshNetworks",
            "networks:\n  net0:\n    gateways:\n    - address: 198.51.100.1\n      port: 15443\n"
                + "  net1:\n    endpoints:\n    - fromRegistry: Kubernetes\n    gateways:\n"
                + "    - address: 198.51.100.7\n      port: 15443\n"));

    assertThat(discover().gateway().orElseThrow().address()).isEqualTo("198.51.100.7");
  }

  @Test
  void resolvesAMeshNetworksRegistryServiceNameToItsLoadBalancer() {
    gateway("cross-network-gateway", List.of(15012, 15443), "gw.example.com", "198.51.100.20");
    setData(
        "istio",
        Map.of(
            "mesh",
            "",
            "meshNetworks",
            "networks:\n  west:\n    endpoints:\n    - fromRegistry: Kubernetes\n    gateways:\n"
                + "    - registryServiceName: cross-network-gateway.istio-system.svc.cluster.local\n"
                + "      port: 15443\n"));

    MeshSnapshot mesh = discover();

    assertThat(mesh.gateway().orElseThrow().address()).isEqualTo("gw.example.com");
    assertThat(mesh.gateway().orElseThrow().isHostname()).isTrue();
  }

  @Test
  void fallsBackToTheIngressGatewayAndPrefersAHostname() {
    client.services().inNamespace(NS).withName(TypicalIstio.GATEWAY).delete();
    gateway(
        "istio-ingressgateway", List.of(80, 443, 15012, 15443), "lb.example.com", "198.51.100.30");

    assertThat(discover().gateway().orElseThrow().address()).isEqualTo("lb.example.com");

    gateway("istio-ingressgateway", List.of(80, 443, 15012, 15443), null, "198.51.100.30");
    assertThat(discover().gateway().orElseThrow().address()).isEqualTo("198.51.100.30");
  }

  @Test
  void reportsEveryPreflightProblemAtOnce() {
    setData(
        "istio-sidecar-injector",
        Map.of(
            "values",
            "{\"global\":{\"jwtPolicy\":\"first-party-jwt\",\"pilotCertProvider\":\"kubernetes\"}}"));
    gateway(TypicalIstio.GATEWAY, List.of(15021), null, null);

    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .satisfies(
            e ->
                assertThat(((InvalidInputException) e).problems())
                    .extracting(p -> p.field())
                    .containsExactly(
                        "ConfigMap istio-system/istio-sidecar-injector values global.jwtPolicy",
                        "ConfigMap istio-system/istio-sidecar-injector values global.pilotCertProvider",
                        "Service istio-system/istio-eastwestgateway spec.ports",
                        "Service istio-system/istio-eastwestgateway status.loadBalancer.ingress"))
        .hasMessageContaining("--set values.global.jwtPolicy=third-party-jwt")
        .hasMessageContaining("lacks [15012, 15443]")
        .hasMessageContaining("has no address yet");
  }

  @Test
  void refusesAMeshWithoutGateway() {
    client.services().inNamespace(NS).withName(TypicalIstio.GATEWAY).delete();

    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("gateway none found")
        .hasMessageContaining(
            "istio-system/istio-eastwestgateway or istio-system/istio-ingressgateway");
  }

  @Test
  void refusesAMissingIstioNamespace() {
    assertThatThrownBy(
            () ->
                KubernetesMeshDiscovery.builder(cluster.cluster())
                    .istioNamespace("istio-nope")
                    .build()
                    .snapshot())
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining(
            "the Istio namespace 'istio-nope' does not exist on the embedded Istio cluster");
  }

  @Test
  void refusesMalformedMeshConfigAndValuesNamingTheObjectAndKey() {
    setData("istio", Map.of("mesh", "defaultConfig: [unclosed"));
    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("ConfigMap istio-system/istio key mesh is not valid MeshConfig YAML");

    setData("istio", Map.of("mesh", ""));
    setData("istio-sidecar-injector", Map.of("values", "{\"global\": "));
    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(
            "ConfigMap istio-system/istio-sidecar-injector key values is not valid install values JSON");
  }

  @Test
  void readsTheMeshExpansionOverridesTheNamespaceNames() {
    client
        .namespaces()
        .withName(NS)
        .edit(
            n -> {
              n.getMetadata()
                  .getAnnotations()
                  .put("sidecar-bootstrap.istio.io/mesh-expansion-configmap", "vm-proxy");
              return n;
            });
    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("names ConfigMap istio-system/vm-proxy, which does not exist");

    create(
        "vm-proxy",
        Map.of("PROXY_CONFIG", "{\"proxyMetadata\":{\"ISTIO_META_DNS_CAPTURE\":\"true\"}}"));
    assertThat(discover().meshExpansionProxyConfig())
        .containsEntry("proxyMetadata", Map.of("ISTIO_META_DNS_CAPTURE", "true"));
  }

  @Test
  void refusesAMissingRootCertificate() {
    client.configMaps().inNamespace(NS).withName("istio-ca-root-cert").delete();

    assertThatThrownBy(this::discover)
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(
            "ConfigMap istio-system/istio-ca-root-cert key root-cert.pem is missing");
  }

  @Test
  void fallsBackToTheClientsCaWhenKubeRootCaIsAbsent() {
    client.configMaps().inNamespace(NS).withName("kube-root-ca.crt").delete();
    assertThat(discover().kubernetesCaCertificate()).isEmpty();

    String kubernetesCa = cluster.kubernetesCaCertificatePem();
    io.fabric8.kubernetes.client.Config config =
        new io.fabric8.kubernetes.client.ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
            .withMasterUrl(cluster.url())
            .withCaCertData(
                java.util.Base64.getEncoder()
                    .encodeToString(
                        kubernetesCa.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
            .build();
    try (KubernetesClient withCa =
        new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build()) {
      assertThat(
              KubernetesMeshDiscovery.create(KubernetesCluster.of(withCa))
                  .snapshot()
                  .kubernetesCaCertificate())
          .contains(kubernetesCa);
    }
  }

  private void setData(String name, Map<String, String> data) {
    client
        .configMaps()
        .inNamespace(NS)
        .withName(name)
        .edit(
            c -> {
              c.setData(new java.util.HashMap<>(data));
              return c;
            });
  }

  private void create(String name, Map<String, String> data) {
    client
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NS)
                .endMetadata()
                .withData(data)
                .build())
        .create();
  }

  /**
   * A LoadBalancer Service whose status is set through the status subresource, as a real cluster
   * does.
   */
  private void gateway(String name, List<Integer> ports, String hostname, String ip) {
    ServiceBuilder builder =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .endSpec();
    for (int port : ports) {
      builder.editSpec().addNewPort().withName("p" + port).withPort(port).endPort().endSpec();
    }
    client.services().inNamespace(NS).withName(name).delete();
    Service created = client.resource(builder.build()).create();
    LoadBalancerIngressBuilder ingress = new LoadBalancerIngressBuilder();
    if (hostname == null && ip == null) {
      created.setStatus(new ServiceStatusBuilder().withNewLoadBalancer().endLoadBalancer().build());
    } else {
      List<io.fabric8.kubernetes.api.model.LoadBalancerIngress> entries =
          new java.util.ArrayList<>();
      if (ip != null) {
        entries.add(new LoadBalancerIngressBuilder().withIp(ip).build());
      }
      if (hostname != null) {
        entries.add(ingress.withHostname(hostname).build());
      }
      created.setStatus(
          new ServiceStatusBuilder()
              .withNewLoadBalancer()
              .withIngress(entries)
              .endLoadBalancer()
              .build());
    }
    client.resource(created).updateStatus();
  }
}
