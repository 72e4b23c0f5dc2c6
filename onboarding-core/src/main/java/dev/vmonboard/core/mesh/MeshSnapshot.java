package dev.vmonboard.core.mesh;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One immutable snapshot of what the control plane says, everything a bundle is built from: the
 * Istio namespace and revision, MeshConfig (its {@code defaultConfig} merged over Istio's built-in
 * defaults), {@code meshNetworks}, install values, certificates, the gateway the VM dials and the
 * mesh-expansion ProxyConfig overrides.
 *
 * <p>{@code KubernetesMeshDiscovery} fills it from a cluster; tests build it by hand.
 */
@Value.Immutable
@ValueStyle
public abstract class MeshSnapshot {

  MeshSnapshot() {}

  /** The Istio system namespace. */
  @Value.Default
  public String istioNamespace() {
    return "istio-system";
  }

  /** The control-plane revision, when the mesh uses one. */
  public abstract Optional<String> revision();

  /** The MeshConfig as the {@code mesh} key holds it (empty for Istio's defaults). */
  public abstract Map<String, Object> meshConfig();

  /** The {@code meshNetworks} configuration: networks with their endpoints and gateways. */
  public abstract Map<String, Object> meshNetworks();

  /** The install values of the sidecar injector. */
  @Value.Default
  public InstallValues values() {
    return InstallValues.defaults();
  }

  /**
   * The mesh root certificate (PEM) of the Istio namespace (empty when only known per namespace).
   */
  @Value.Default
  public String rootCertificate() {
    return "";
  }

  /** The Kubernetes API server's CA certificate (PEM), when known. */
  public abstract Optional<String> kubernetesCaCertificate();

  /** The gateway through which the VM reaches istiod, when the mesh has one. */
  public abstract Optional<GatewayAddress> gateway();

  /**
   * The gateway {@code istioctl x workload entry configure} writes into the systemd style's {@code
   * hosts} file: the IP given ({@code --ingressIP}), else the ingress Service's (default {@code
   * istio-eastwestgateway}) first load-balancer IP, else its first {@code spec.externalIPs}; or,
   * where the load balancer only has a host name, that name (an addition of this SDK: Istio writes
   * an empty {@code hosts} then). Absent: an empty {@code hosts} file, as Istio writes.
   */
  public abstract Optional<GatewayAddress> ingress();

  /**
   * The root certificate ({@code istio-ca-root-cert}) of workload namespaces, by namespace, where
   * it was read there (Istio's own VM flow reads it from the WorkloadGroup's namespace).
   */
  public abstract Map<String, String> namespaceRootCertificates();

  /**
   * The root certificate of workloads in {@code namespace}: that namespace's {@code
   * istio-ca-root-cert} when known, else {@link #rootCertificate()}.
   */
  public final String rootCertificate(String namespace) {
    return namespaceRootCertificates().getOrDefault(namespace, rootCertificate());
  }

  /** ProxyConfig overrides for every VM proxy (the mesh-expansion ConfigMap). */
  public abstract Map<String, Object> meshExpansionProxyConfig();

  /**
   * The mesh-wide ProxyConfig: MeshConfig's {@code defaultConfig} merged over Istio's built-in
   * defaults for this namespace and revision (a partial {@code defaultConfig} keeps the rest).
   */
  @Value.Lazy
  public Map<String, Object> defaultProxyConfig() {
    Object configured = meshConfig().get("defaultConfig");
    Map<String, Object> builtIn = IstioConfig.builtInProxyConfig(istioNamespace(), revision());
    if (configured instanceof Map<?, ?> map) {
      return IstioConfig.deepMerge(builtIn, IstioConfig.stringKeys(map));
    }
    return builtIn;
  }

  /** The istiod service host, {@code istiod[-rev].<ns>.svc}. */
  public final String istiodHost() {
    return revision().map(rev -> "istiod-" + rev).orElse("istiod")
        + "."
        + istioNamespace()
        + ".svc";
  }

  /** The trust domain: MeshConfig's {@code trustDomain}, else the install value. */
  public final String trustDomain() {
    Object configured = meshConfig().get("trustDomain");
    return configured instanceof String domain && !domain.isBlank()
        ? domain
        : values().trustDomain();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link MeshSnapshot}s. */
  public static final class Builder extends ImmutableMeshSnapshot.Builder {
    Builder() {}
  }
}
