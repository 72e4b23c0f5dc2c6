package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.GroupVersionForDiscovery;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Istio's {@code networking.istio.io} API as one cluster serves it.
 *
 * <p>Istio has served its networking kinds as {@code v1alpha3}, then {@code v1beta1}, then {@code
 * v1}; clusters run any of them. For each kind this asks API discovery once which versions the
 * cluster serves and uses the newest one the SDK knows. Objects travel as generic resources at that
 * version and convert to and from the typed model ({@link WorkloadEntry}, {@link WorkloadGroup},
 * {@link Sidecar}), whose spec is the same at every version. Thread-safe.
 */
final class IstioApi {

  static final String GROUP = "networking.istio.io";

  /** The versions the SDK can read and write, newest first. */
  static final List<String> KNOWN_VERSIONS =
      TypicalIstio.allNetworkingVersions().stream()
          .sorted(Comparator.comparingLong(KubeVersions::priority).reversed())
          .collect(Collectors.toUnmodifiableList());

  private static final Logger LOG = LoggerFactory.getLogger(IstioApi.class);

  private final KubernetesCluster cluster;
  private final Map<IstioKind, String> versions = new ConcurrentHashMap<>();

  IstioApi(KubernetesCluster cluster) {
    this.cluster = cluster;
  }

  /** The version {@code kind} is read and written at; asks the cluster on first use. */
  String version(IstioKind kind) {
    String known = versions.get(kind);
    if (known != null) {
      return known;
    }
    String negotiated = negotiate(kind);
    versions.put(kind, negotiated);
    return negotiated;
  }

  private String negotiate(IstioKind kind) {
    KubernetesClient client = cluster.client();
    APIGroup group =
        cluster.call(
            "discover", "", "API group " + GROUP, null, null, () -> client.getApiGroup(GROUP));
    if (group == null || group.getVersions() == null || group.getVersions().isEmpty()) {
      throw KubernetesFailures.istioNotServed(cluster, kind, List.of());
    }
    Set<String> served =
        group.getVersions().stream()
            .map(GroupVersionForDiscovery::getVersion)
            .collect(Collectors.toSet());
    for (String version : KNOWN_VERSIONS) {
      if (served.contains(version)) {
        APIResourceList resources =
            cluster.call(
                "discover",
                "",
                "API " + GROUP + "/" + version,
                null,
                null,
                () -> client.getApiResources(GROUP + "/" + version));
        if (resources != null
            && resources.getResources().stream().anyMatch(r -> kind.plural().equals(r.getName()))) {
          LOG.debug("{} uses {}/{} on {}", kind, GROUP, version, cluster.description());
          return version;
        }
      }
    }
    throw KubernetesFailures.istioNotServed(
        cluster, kind, served.stream().sorted().collect(Collectors.toList()));
  }

  /** The operations on {@code kind} at its negotiated version. */
  MixedOperation<
          GenericKubernetesResource,
          GenericKubernetesResourceList,
          Resource<GenericKubernetesResource>>
      resources(IstioKind kind) {
    return cluster.client().genericKubernetesResources(context(kind, version(kind)));
  }

  static ResourceDefinitionContext context(IstioKind kind, String version) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(GROUP)
        .withVersion(version)
        .withKind(kind.kind())
        .withPlural(kind.plural())
        .withNamespaced(true)
        .build();
  }

  /** {@code resource} as the typed model {@code type}. */
  <T extends HasMetadata> T toTyped(GenericKubernetesResource resource, Class<T> type) {
    return cluster.client().getKubernetesSerialization().convertValue(resource, type);
  }

  /** {@code typed} as a generic resource of {@code kind} at its negotiated version. */
  GenericKubernetesResource toGeneric(IstioKind kind, HasMetadata typed) {
    GenericKubernetesResource generic =
        cluster
            .client()
            .getKubernetesSerialization()
            .convertValue(typed, GenericKubernetesResource.class);
    generic.setApiVersion(GROUP + "/" + version(kind));
    generic.setKind(kind.kind());
    return generic;
  }
}
