package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersionBuilder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a typical Istio installation puts in a cluster, as far as VM onboarding reads it: the Istio
 * CRDs, the {@code istio-system} namespace with the {@code istio} and {@code
 * istio-sidecar-injector} ConfigMaps, the root certificate ConfigMaps, istiod and an east-west
 * gateway with a load-balancer address.
 */
final class TypicalIstio {

  static final String NAMESPACE = "istio-system";
  static final String GATEWAY = "istio-eastwestgateway";
  static final String GATEWAY_IP = "192.0.2.10";
  static final String ISTIO_TAG = "1.22.3";

  /** The mesh config of a default install: Istio's defaults plus what istioctl writes. */
  static final String MESH =
      String.join(
          "\n",
          "defaultConfig:",
          "  discoveryAddress: istiod.istio-system.svc:15012",
          "  proxyMetadata: {}",
          "  tracing:",
          "    zipkin:",
          "      address: zipkin.istio-system:9411",
          "enablePrometheusMerge: true",
          "rootNamespace: istio-system",
          "trustDomain: cluster.local",
          "");

  static final String MESH_NETWORKS = "networks: {}\n";

  static final String VALUES =
      "{\"global\":{\"caAddress\":\"\",\"hub\":\"docker.io/istio\",\"tag\":\""
          + ISTIO_TAG
          + "\",\"jwtPolicy\":\"third-party-jwt\",\"pilotCertProvider\":\"istiod\","
          + "\"meshID\":\"\",\"network\":\"\",\"multiCluster\":{\"clusterName\":\"Kubernetes\"},"
          + "\"proxy\":{\"image\":\"proxyv2\",\"logLevel\":\"warning\","
          + "\"componentLogLevel\":\"misc:error\"}},\"revision\":\"\"}";

  private static final List<String> NETWORKING_VERSIONS = List.of("v1alpha3", "v1beta1", "v1");

  private TypicalIstio() {}

  /**
   * The CRDs of Istio's {@code networking.istio.io} and {@code security.istio.io} groups; the
   * networking kinds are served at {@code networkingVersions}.
   */
  static List<CustomResourceDefinition> crds(List<String> networkingVersions) {
    List<CustomResourceDefinition> crds = new ArrayList<>();
    for (String kind :
        List.of(
            "Gateway",
            "VirtualService",
            "DestinationRule",
            "ServiceEntry",
            "Sidecar",
            "WorkloadEntry",
            "WorkloadGroup")) {
      crds.add(crd(IstioApi.GROUP, kind, networkingVersions));
    }
    crds.add(crd(IstioApi.GROUP, "EnvoyFilter", List.of("v1alpha3")));
    for (String kind :
        List.of("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication")) {
      crds.add(crd("security.istio.io", kind, List.of("v1beta1", "v1")));
    }
    return crds;
  }

  /** All networking versions Istio has served, oldest first. */
  static List<String> allNetworkingVersions() {
    return NETWORKING_VERSIONS;
  }

  static CustomResourceDefinition crd(String group, String kind, List<String> versions) {
    String plural = plural(kind);
    String storage =
        versions.stream().max(Comparator.comparingLong(KubeVersions::priority)).orElseThrow();
    List<CustomResourceDefinitionVersion> served = new ArrayList<>();
    for (String version : versions) {
      served.add(
          new CustomResourceDefinitionVersionBuilder()
              .withName(version)
              .withServed(true)
              .withStorage(version.equals(storage))
              .withNewSchema()
              .withNewOpenAPIV3Schema()
              .withType("object")
              .withXKubernetesPreserveUnknownFields(true)
              .endOpenAPIV3Schema()
              .endSchema()
              .build());
    }
    return new CustomResourceDefinitionBuilder()
        .withNewMetadata()
        .withName(plural + "." + group)
        .withLabels(Map.of("app", "istio-pilot"))
        .endMetadata()
        .withNewSpec()
        .withGroup(group)
        .withScope("Namespaced")
        .withNewNames()
        .withKind(kind)
        .withListKind(kind + "List")
        .withPlural(plural)
        .withSingular(kind.toLowerCase(Locale.ROOT))
        .endNames()
        .withVersions(served)
        .endSpec()
        .build();
  }

  private static String plural(String kind) {
    String lower = kind.toLowerCase(Locale.ROOT);
    if (lower.endsWith("y")) {
      return lower.substring(0, lower.length() - 1) + "ies";
    }
    return lower.endsWith("s") ? lower + "es" : lower + "s";
  }

  /** The objects of a default installation, with the given certificates. */
  static List<HasMetadata> objects(String istioRootCertPem, String kubernetesCaPem) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String namespace : List.of("default", NAMESPACE)) {
      objects.add(
          new NamespaceBuilder()
              .withNewMetadata()
              .withName(namespace)
              .addToLabels("kubernetes.io/metadata.name", namespace)
              .endMetadata()
              .build());
      objects.add(
          configMap(namespace, "istio-ca-root-cert", Map.of("root-cert.pem", istioRootCertPem)));
      objects.add(configMap(namespace, "kube-root-ca.crt", Map.of("ca.crt", kubernetesCaPem)));
    }
    objects.add(configMap(NAMESPACE, "istio", Map.of("mesh", MESH, "meshNetworks", MESH_NETWORKS)));
    objects.add(configMap(NAMESPACE, "istio-sidecar-injector", Map.of("values", VALUES)));
    objects.add(
        new ServiceBuilder()
            .withNewMetadata()
            .withName("istiod")
            .withNamespace(NAMESPACE)
            .addToLabels("app", "istiod")
            .addToLabels("istio", "pilot")
            .endMetadata()
            .withNewSpec()
            .withType("ClusterIP")
            .addToSelector("app", "istiod")
            .withPorts(
                port("grpc-xds", 15010),
                port("https-dns", 15012),
                port("https-webhook", 443),
                port("http-monitoring", 15014))
            .endSpec()
            .build());
    objects.add(
        new ServiceBuilder()
            .withNewMetadata()
            .withName(GATEWAY)
            .withNamespace(NAMESPACE)
            .addToLabels("app", GATEWAY)
            .addToLabels("istio", "eastwestgateway")
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .addToSelector("istio", "eastwestgateway")
            .withPorts(
                port("status-port", 15021),
                port("tls", 15443),
                port("tls-istiod", 15012),
                port("tls-webhook", 15017))
            .endSpec()
            .withNewStatus()
            .withNewLoadBalancer()
            .addNewIngress()
            .withIp(GATEWAY_IP)
            .endIngress()
            .endLoadBalancer()
            .endStatus()
            .build());
    return objects;
  }

  private static HasMetadata configMap(String namespace, String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .endMetadata()
        .withData(data)
        .build();
  }

  private static io.fabric8.kubernetes.api.model.ServicePort port(String name, int number) {
    return new ServicePortBuilder()
        .withName(name)
        .withPort(number)
        .withProtocol("TCP")
        .withNewTargetPort(number)
        .build();
  }
}
