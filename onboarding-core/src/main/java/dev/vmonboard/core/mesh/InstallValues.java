package dev.vmonboard.core.mesh;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * The install values of the sidecar injector that a VM proxy needs ({@code values} of the {@code
 * istio-sidecar-injector} ConfigMap), with Istio's defaults for what is absent. Parse them with
 * {@link IstioConfig#parseValues(String, String)}.
 */
@Value.Immutable
@ValueStyle
public abstract class InstallValues {

  InstallValues() {}

  /** {@code global.jwtPolicy}; VMs need {@code third-party-jwt}. */
  @Value.Default
  public String jwtPolicy() {
    return "third-party-jwt";
  }

  /** {@code global.pilotCertProvider}; VMs need {@code istiod}. */
  @Value.Default
  public String pilotCertProvider() {
    return "istiod";
  }

  /** {@code global.hub}. */
  @Value.Default
  public String hub() {
    return "docker.io/istio";
  }

  /** {@code global.tag}. */
  @Value.Default
  public String tag() {
    return "latest";
  }

  /** {@code global.proxy.image}. */
  @Value.Default
  public String proxyImage() {
    return "proxyv2";
  }

  /** {@code global.proxy.logLevel}. */
  @Value.Default
  public String logLevel() {
    return "info";
  }

  /** {@code global.proxy.componentLogLevel}. */
  @Value.Default
  public String componentLogLevel() {
    return "misc:info";
  }

  /** {@code global.trustDomain}. */
  @Value.Default
  public String trustDomain() {
    return "cluster.local";
  }

  /** {@code global.meshID}. */
  public abstract Optional<String> meshId();

  /** {@code global.network}. */
  public abstract Optional<String> network();

  /**
   * {@code global.multiCluster.clusterName}, when set. Istio's VM flow leaves the cluster ID empty
   * without it; the container style (the {@code sidecar-bootstrap} anchor) uses {@code Kubernetes}.
   */
  public abstract Optional<String> clusterName();

  /** {@code global.caAddress}. */
  public abstract Optional<String> caAddress();

  /** {@code revision}. */
  public abstract Optional<String> revision();

  /** Istio's defaults for every value. */
  public static InstallValues defaults() {
    return builder().build();
  }

  /** A builder starting from Istio's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link InstallValues}. */
  public static final class Builder extends ImmutableInstallValues.Builder {
    Builder() {}
  }
}
