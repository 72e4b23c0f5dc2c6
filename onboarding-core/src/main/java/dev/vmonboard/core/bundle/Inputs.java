package dev.vmonboard.core.bundle;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What both bundle styles read from a workload and a mesh, each value checked once: labels, names,
 * the instance IP, install values, the gateway. Problems go to {@link Checks}; a bad value is
 * replaced by a harmless one so that every problem can be found in one pass.
 */
final class Inputs {

  /** Where the agent finds the root certificate and keeps (and renews) its own. */
  static final String SECRETS_DIR = "/var/run/secrets/istio";

  static final String CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";
  static final String CANONICAL_REVISION_LABEL = "service.istio.io/canonical-revision";

  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9][-A-Za-z0-9_.]*");
  private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9\\[][-A-Za-z0-9_.:\\[\\]]*");

  final Workload workload;
  final MeshSnapshot mesh;
  final Checks checks;

  /** Metadata labels with {@code spec.labels} over them, sorted. */
  final Map<String, String> labels;

  /** The {@code app} label ({@code spec.labels}, then metadata), else the service account. */
  final String appOrServiceAccount;

  final String serviceAccount;
  final String trustDomain;
  final String clusterId;
  final String meshId;
  final String network;
  final String jwtPolicy;
  final String pilotCertProvider;
  final Optional<String> caAddress;
  final Optional<GatewayAddress> gateway;

  Inputs(Workload workload, MeshSnapshot mesh) {
    this.workload = workload;
    this.mesh = mesh;
    this.checks = new Checks(workload.ref());
    try {
      workload.validate();
    } catch (InvalidInputException e) {
      checks.addAll(e);
    }
    Map<String, String> merged = new TreeMap<>(workload.metadataLabels());
    merged.putAll(workload.labels());
    this.labels = merged;
    this.serviceAccount = workload.serviceAccount().orElse("");
    String app = workload.labels().get("app");
    if (app == null || app.isEmpty()) {
      app = workload.metadataLabels().get("app");
    }
    this.appOrServiceAccount = app == null || app.isEmpty() ? serviceAccount : app;

    this.trustDomain =
        installWord(
            "trust domain (MeshConfig trustDomain or global.trustDomain)", mesh.trustDomain());
    this.clusterId =
        mesh.values()
            .clusterName()
            .filter(name -> !name.isBlank())
            .map(name -> installWord("global.multiCluster.clusterName", name))
            .orElse("Kubernetes");
    this.meshId =
        mesh.values()
            .meshId()
            .filter(id -> !id.isBlank())
            .map(id -> installWord("global.meshID", id))
            .orElse(trustDomain);
    this.network =
        workload
            .network()
            .filter(name -> !name.isEmpty())
            .or(() -> mesh.values().network().map(name -> installWord("global.network", name)))
            .orElse("");
    this.jwtPolicy = mesh.values().jwtPolicy();
    if (!jwtPolicy.equals("third-party-jwt")) {
      checks.add(
          "global.jwtPolicy",
          "'"
              + Names.printable(jwtPolicy)
              + "' is not supported: VM proxies authenticate with third-party-jwt tokens"
              + " (TokenRequest, audience istio-ca); install Istio with third-party-jwt");
    }
    this.pilotCertProvider = mesh.values().pilotCertProvider();
    if (!pilotCertProvider.equals("istiod")) {
      checks.add(
          "global.pilotCertProvider",
          "'"
              + Names.printable(pilotCertProvider)
              + "' is not supported: VM proxies verify istiod with the mesh root certificate,"
              + " which needs pilotCertProvider istiod");
    }
    this.caAddress =
        mesh.values()
            .caAddress()
            .filter(address -> checks.matches("global.caAddress", address, ADDRESS, "host[:port]"));
    this.gateway = mesh.gateway();
  }

  /**
   * Records a problem when the root certificate is missing or, with {@code pem}, holds no PEM
   * certificate (the systemd style, like istioctl, copies whatever the ConfigMap holds).
   */
  void checkRootCertificate(boolean pem) {
    String certificate = rootCertificate();
    if (pem ? !certificate.contains("-----BEGIN CERTIFICATE-----") : certificate.isBlank()) {
      checks.add(
          "root certificate (istio-ca-root-cert root-cert.pem)",
          pem
              ? "holds no PEM certificate; the proxy could not verify istiod"
              : "is missing; the proxy could not verify istiod");
    }
  }

  /** The value of {@code annotation} when set and matching {@code pattern}; else a problem. */
  Optional<String> annotation(BootstrapAnnotation annotation, Pattern pattern, String expected) {
    return workload
        .annotation(annotation)
        .filter(value -> checks.matches(annotation.key(), value, pattern, expected));
  }

  /**
   * The IP the proxy binds inbound listeners to: the {@code proxy-instance-ip} annotation (an IP),
   * else {@code spec.address} when it is an IP.
   */
  Optional<String> instanceIp() {
    Optional<String> annotated = workload.annotation(BootstrapAnnotation.PROXY_INSTANCE_IP);
    if (annotated.isPresent()) {
      if (Names.isIp(annotated.get())) {
        return annotated;
      }
      checks.add(
          BootstrapAnnotation.PROXY_INSTANCE_IP.key(),
          "'" + Names.printable(annotated.get()) + "' is not an IP address");
      return Optional.of("");
    }
    return workload.address().filter(Names::isIp);
  }

  /** The label {@code name} ({@code spec.labels} over metadata), or empty. */
  String label(String name) {
    return labels.getOrDefault(name, "");
  }

  /** The root certificate of the workload's namespace (else the Istio namespace's). */
  String rootCertificate() {
    return mesh.rootCertificate(workload.namespace());
  }

  /** Compact JSON of the labels, or empty text when there are none. */
  String labelsJson() {
    return labels.isEmpty() ? "" : IstioConfig.toCompactJson(new TreeMap<>(labels));
  }

  /** Compact JSON of the annotations whose name contains {@code istio.io/}, or empty text. */
  String istioAnnotationsJson() {
    Map<String, Object> istio = new TreeMap<>();
    workload
        .annotations()
        .forEach(
            (name, value) -> {
              if (name.contains("istio.io/")) {
                istio.put(name, value);
              }
            });
    return istio.isEmpty() ? "" : IstioConfig.toCompactJson(istio);
  }

  /** The gateway's IP, when the gateway has one (not a host name). */
  Optional<String> gatewayIp() {
    return gateway.filter(address -> !address.isHostname()).map(GatewayAddress::address);
  }

  /** The gateway's host name, when the gateway only has one. */
  Optional<String> gatewayHostname() {
    return gateway.filter(GatewayAddress::isHostname).map(GatewayAddress::address);
  }

  /**
   * The SNI name the agent must present to reach {@code address}: none (empty) when the address is
   * cluster-local (its own name is right), else {@code istiod.<istio namespace>.svc}.
   */
  String sniFor(String address) {
    return Addresses.isClusterLocal(address) ? "" : "istiod." + mesh.istioNamespace() + ".svc";
  }

  /** {@code address}, pointed at the gateway host when the gateway is known by host name only. */
  String reachable(String address) {
    return gatewayHostname()
        .filter(host -> Addresses.isClusterLocal(address))
        .map(host -> Addresses.onGateway(address, host))
        .orElse(address);
  }

  /** The bytes of {@code text} in UTF-8. */
  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The first 7 hex digits of SHA-256 of {@code text}. */
  static String shortHash(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4).substring(0, 7);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  private String installWord(String field, String value) {
    return checks.matches(field, value, WORD, "a name (letters, digits, '-', '_' and '.')")
        ? value
        : "";
  }
}
