package dev.vmonboard.core;

import java.util.Optional;

/**
 * The annotation catalogue: every WorkloadEntry (or Istio namespace) annotation the SDK reads, with
 * its default and what it does. {@code values()} is the catalogue; {@link #catalogue()} renders it
 * as text (for a {@code --docs} listing).
 */
public enum BootstrapAnnotation {
  /** Address to SSH to when it differs from the entry's address. */
  SSH_HOST(
      "sidecar-bootstrap.istio.io/ssh-host",
      "spec.address",
      "Address to reach the VM over SSH when it differs from the address the mesh uses, for"
          + " example a public IP where spec.address is the private one."),
  /** SSH port. */
  SSH_PORT("sidecar-bootstrap.istio.io/ssh-port", "22", "SSH port of the VM (1-65535)."),
  /** User to SSH as. */
  SSH_USER(
      "sidecar-bootstrap.istio.io/ssh-user",
      "the caller's choice, else the local user",
      "User to SSH as. It needs the right to write the config directory and to run the container"
          + " runtime (directly or through sudo)."),
  /** Path of scp on the VM. */
  SCP_PATH(
      "sidecar-bootstrap.istio.io/scp-path",
      "/usr/bin/scp",
      "Path of scp on the VM, for transports that copy files with it. The SDK's SSH transport"
          + " does not need scp (it streams the bundle through one command) and ignores it."),
  /** Directory on the VM that receives the bundle. */
  PROXY_CONFIG_DIR(
      "sidecar-bootstrap.istio.io/proxy-config-dir",
      "/tmp/istio-proxy",
      "Absolute directory on the VM that receives the bundle (token, root certificate,"
          + " environment). Replaced atomically on every delivery; must not contain '..'."),
  /** Registry hub of the proxy image. */
  PROXY_IMAGE_HUB(
      "sidecar-bootstrap.istio.io/proxy-image-hub",
      "the mesh's hub (global.hub)",
      "Registry hub to pull the proxy image from instead of the mesh-wide hub, e.g. a mirror"
          + " reachable from the VM. The image is <hub>/proxyv2:<tag>."),
  /** Container name of the proxy. */
  PROXY_CONTAINER_NAME(
      "sidecar-bootstrap.istio.io/proxy-container-name",
      "istio-proxy",
      "Name of the proxy container on the VM; unique per proxy on one VM."),
  /** IP the proxy binds inbound listeners to. */
  PROXY_INSTANCE_IP(
      "sidecar-bootstrap.istio.io/proxy-instance-ip",
      "spec.address when it is an IP",
      "IP the proxy binds inbound listeners to when the VM cannot bind spec.address (for example"
          + " AWS, where spec.address is public and the VM only has its private IP). Must be an IP."),
  /** ConfigMap with ProxyConfig overrides for every VM proxy (on the Istio namespace). */
  MESH_EXPANSION_CONFIGMAP(
      "sidecar-bootstrap.istio.io/mesh-expansion-configmap",
      "none",
      "Set on the Istio system namespace: names a ConfigMap there whose PROXY_CONFIG key holds"
          + " ProxyConfig overrides applied to all VM proxies, above the mesh default."),
  /** ProxyConfig overrides for this workload (standard Istio). */
  PROXY_CONFIG(
      "proxy.istio.io/config",
      "none",
      "Standard Istio annotation: ProxyConfig (YAML or JSON) for this workload; wins over the"
          + " mesh default and the mesh-expansion overrides."),
  /** Traffic interception mode (standard Istio). */
  INTERCEPTION_MODE(
      "sidecar.istio.io/interceptionMode",
      "NONE",
      "Standard Istio annotation: how the proxy captures traffic. VMs onboarded by this SDK"
          + " default to NONE (no iptables redirection)."),
  /** Full proxy image (standard Istio). */
  PROXY_IMAGE(
      "sidecar.istio.io/proxyImage",
      "<hub>/proxyv2:<tag>",
      "Standard Istio annotation: the complete proxy image, overriding hub and tag."),
  /** Proxy log level (standard Istio). */
  LOG_LEVEL(
      "sidecar.istio.io/logLevel",
      "global.proxy.logLevel, else info",
      "Standard Istio annotation: Envoy's log level (trace, debug, info, warning, error,"
          + " critical, off)."),
  /** Proxy component log levels (standard Istio). */
  COMPONENT_LOG_LEVEL(
      "sidecar.istio.io/componentLogLevel",
      "global.proxy.componentLogLevel, else misc:info",
      "Standard Istio annotation: Envoy's per-component log levels, e.g. misc:error,upstream:info."),
  /** Extra stats prefixes (standard Istio). */
  STATS_INCLUSION_PREFIXES(
      "sidecar.istio.io/statsInclusionPrefixes",
      "none",
      "Standard Istio annotation: extra Envoy stat name prefixes to report. Passed to the proxy"
          + " through ISTIO_METAJSON_ISTIO_ANNOTATIONS."),
  /** Extra stats suffixes (standard Istio). */
  STATS_INCLUSION_SUFFIXES(
      "sidecar.istio.io/statsInclusionSuffixes",
      "none",
      "Standard Istio annotation: extra Envoy stat name suffixes to report."),
  /** Extra stats regexps (standard Istio). */
  STATS_INCLUSION_REGEXPS(
      "sidecar.istio.io/statsInclusionRegexps",
      "none",
      "Standard Istio annotation: extra Envoy stat name regular expressions to report.");

  /** The prefix of the SDK's own annotations. */
  public static final String PREFIX = "sidecar-bootstrap.istio.io/";

  private final String key;
  private final String defaultValue;
  private final String description;

  BootstrapAnnotation(String key, String defaultValue, String description) {
    this.key = key;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  /** The annotation's full name, e.g. {@code sidecar-bootstrap.istio.io/ssh-host}. */
  public String key() {
    return key;
  }

  /** What applies when the annotation is absent, in words. */
  public String defaultValue() {
    return defaultValue;
  }

  /** One paragraph on what the annotation does. */
  public String description() {
    return description;
  }

  /** The annotation with this full name, if the SDK reads it. */
  public static Optional<BootstrapAnnotation> forKey(String key) {
    for (BootstrapAnnotation annotation : values()) {
      if (annotation.key.equals(key)) {
        return Optional.of(annotation);
      }
    }
    return Optional.empty();
  }

  /** The whole catalogue as plain text: name, default, description, one block each. */
  public static String catalogue() {
    StringBuilder text = new StringBuilder();
    for (BootstrapAnnotation annotation : values()) {
      text.append(annotation.key)
          .append("\n  default: ")
          .append(annotation.defaultValue)
          .append("\n  ")
          .append(annotation.description)
          .append("\n\n");
    }
    return text.toString();
  }
}
