package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds the bundle of a proxy installed with Istio's {@code istio-sidecar} package and run by
 * systemd (Istio's own VM flow, what {@code istioctl x workload entry configure} prepares), from a
 * WorkloadGroup or a WorkloadEntry.
 *
 * <p>Files: {@value #CLUSTER_ENV} (the agent's environment, {@code NAME='value'} lines sorted by
 * name), {@value #MESH_CONFIG} ({@code defaultConfig} with the discovery address, {@code
 * proxyMetadata} and the group's probe as {@code readinessProbe}), {@value #ROOT_CERT}, {@value
 * #HOSTS} ({@code <gateway IP> istiod[-rev].<ns>.svc}, only when the gateway has an IP) and, added
 * by the pipeline, {@value #TOKEN} (0600). The launch is a {@link SystemdLaunch}: where each file
 * goes, owned by {@code istio-proxy} (the hosts line is appended to {@code /etc/hosts} once), then
 * the {@code istio} unit.
 *
 * <p>{@code proxyMetadata} comes from the mesh's {@code defaultConfig}, the mesh-expansion
 * overrides and the workload's {@code proxy.istio.io/config}, in rising priority; the keys the SDK
 * derives (canonical service, namespace, identity, network, labels, DNS capture, auto-registration)
 * win over all of them. When the gateway is known by host name only, istiod's address is that host
 * (no {@code hosts} file: it could not help) and {@code PILOT_SNI} / {@code CA_SNI} carry istiod's
 * name.
 *
 * <p>Pure: no I/O; the same inputs give the same bundle. Thread-safe.
 */
public final class SystemdBundleFactory implements BundleFactory {

  /** The agent's environment. */
  public static final String CLUSTER_ENV = "cluster.env";

  /** The mesh configuration the agent reads. */
  public static final String MESH_CONFIG = "mesh.yaml";

  /** The mesh root certificate. */
  public static final String ROOT_CERT = "root-cert.pem";

  /** The line for {@code /etc/hosts} that sends istiod's name to the gateway. */
  public static final String HOSTS = "hosts";

  /** The bootstrap token, added by the pipeline. */
  public static final String TOKEN = "istio-token";

  private static final int DEFAULT_STATUS_PORT = 15020;

  private final boolean dnsCapture;

  private SystemdBundleFactory(Builder builder) {
    this.dnsCapture = builder.dnsCapture;
  }

  /** A factory with Istio's defaults (DNS capture on). */
  public static SystemdBundleFactory create() {
    return builder().build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * @throws InvalidInputException when a value would give files the agent cannot read or a proxy
   *     that cannot start; every problem is listed, each naming its annotation, label or install
   *     value
   */
  @Override
  public Bundle build(Workload workload, MeshSnapshot mesh) {
    Inputs in = new Inputs(workload, mesh);
    Checks checks = in.checks;
    Map<String, Object> config =
        ProxyConfigs.merge(
            ProxyConfigs.ofMesh(mesh, checks),
            ProxyConfigs.ofExpansion(mesh, checks),
            ProxyConfigs.ofAnnotation(workload, checks));
    config.putIfAbsent(ProxyConfigs.DISCOVERY_ADDRESS, mesh.istiodHost() + ":15012");
    in.gatewayHostname()
        .ifPresent(host -> ProxyConfigs.pointAtGateway(config, host, workload.namespace()));
    String discoveryAddress = ProxyConfigs.discoveryAddress(config, checks);
    Optional<String> caAddress =
        in.caAddress
            .or(() -> mesh.revision().map(revision -> mesh.istiodHost() + ":15012"))
            .map(in::reachable);

    Map<String, String> metadata = proxyMetadata(in, config);
    config.put(ProxyConfigs.METADATA, new TreeMap<>(metadata));
    workload.readinessProbe().ifPresent(probe -> config.put("readinessProbe", probeTree(probe)));
    EnvFile clusterEnv = clusterEnv(in, metadata, config, discoveryAddress, caAddress);

    List<BundleFile> files = new ArrayList<>();
    files.add(BundleFile.of(CLUSTER_ENV, 0644, clusterEnv.shellFormat()));
    files.add(
        BundleFile.of(
            MESH_CONFIG, 0644, Inputs.utf8(IstioConfig.toYaml(Map.of("defaultConfig", config)))));
    files.add(BundleFile.of(ROOT_CERT, 0644, Inputs.utf8(mesh.rootCertificate())));
    SystemdLaunch.Builder launch =
        SystemdLaunch.builder()
            .addInstalls(install(ROOT_CERT, "/etc/certs/root-cert.pem", 0644))
            .addInstalls(install(TOKEN, "/var/run/secrets/tokens/istio-token", 0600))
            .addInstalls(install(CLUSTER_ENV, "/var/lib/istio/envoy/cluster.env", 0644))
            .addInstalls(install(MESH_CONFIG, "/etc/istio/config/mesh", 0644));
    in.gatewayIp()
        .ifPresent(
            ip -> {
              files.add(
                  BundleFile.of(
                      HOSTS, 0644, Inputs.utf8(hostsLine(ip, discoveryAddress, caAddress, mesh))));
              launch.addInstalls(
                  SystemdLaunch.FileInstall.builder()
                      .source(HOSTS)
                      .destination("/etc/hosts")
                      .owner("root")
                      .group("root")
                      .mode(0644)
                      .append(true)
                      .build());
            });

    checks.throwIfAny();
    return Bundle.builder()
        .workload(workload.ref())
        .files(files)
        .tokenPath(TOKEN)
        .launch(launch.build())
        .build();
  }

  /**
   * The merged {@code proxyMetadata} of {@code config}, then the derived keys over it: canonical
   * service and revision, namespace, identity, trust domain, cluster, mesh, network, workload name,
   * labels, DNS capture (unless set already) and auto-registration.
   */
  private Map<String, String> proxyMetadata(Inputs in, Map<String, Object> config) {
    Workload workload = in.workload;
    boolean group = workload.kind() == Workload.Kind.WORKLOAD_GROUP;
    Map<String, String> labels = new TreeMap<>(in.labels);
    String canonicalService =
        firstLabel(
            labels, workload.name(), Inputs.CANONICAL_NAME_LABEL, "app.kubernetes.io/name", "app");
    String canonicalRevision =
        firstLabel(
            labels,
            "latest",
            Inputs.CANONICAL_REVISION_LABEL,
            "app.kubernetes.io/version",
            "version");
    labels.put(Inputs.CANONICAL_NAME_LABEL, canonicalService);
    labels.put(Inputs.CANONICAL_REVISION_LABEL, canonicalRevision);
    EnvFile metadata =
        new EnvFile(in.checks)
            .putAll(ProxyConfigs.metadata(config), "proxyMetadata")
            .put("CANONICAL_SERVICE", canonicalService, "labels")
            .put("CANONICAL_REVISION", canonicalRevision, "labels")
            .put("POD_NAMESPACE", workload.namespace(), "metadata.namespace")
            .put("SERVICE_ACCOUNT", in.serviceAccount, "spec.serviceAccount")
            .put("TRUST_DOMAIN", in.trustDomain, "trust domain")
            .put("ISTIO_META_CLUSTER_ID", in.clusterId, "global.multiCluster.clusterName")
            .put("ISTIO_META_MESH_ID", in.meshId, "global.meshID or trust domain")
            .put("ISTIO_META_NETWORK", in.network, "spec.network or global.network")
            .put(
                "ISTIO_META_WORKLOAD_NAME",
                group ? workload.name() : in.appOrServiceAccount,
                group ? "metadata.name" : "labels.app or serviceAccount")
            .put(
                "ISTIO_METAJSON_LABELS",
                IstioConfig.toCompactJson(new TreeMap<>(labels)),
                "labels");
    if (dnsCapture && !metadata.values().containsKey("ISTIO_META_DNS_CAPTURE")) {
      metadata.put("ISTIO_META_DNS_CAPTURE", "true", "dnsCapture");
    }
    if (group && workload.autoRegister()) {
      metadata.put("ISTIO_META_AUTO_REGISTER_GROUP", workload.name(), "metadata.name");
    }
    return metadata.values();
  }

  /**
   * {@code cluster.env}: the metadata, then what only the environment carries: ports, namespace,
   * service, CIDR, the CA, the VM's IP (entries only: a group stands for many VMs) and, when istiod
   * is reached by another name than its own, the SNI to present.
   */
  private static EnvFile clusterEnv(
      Inputs in,
      Map<String, String> metadata,
      Map<String, Object> config,
      String discoveryAddress,
      Optional<String> caAddress) {
    Workload workload = in.workload;
    EnvFile env =
        new EnvFile(in.checks)
            .putAll(metadata, "proxyMetadata")
            .put("ISTIO_INBOUND_PORTS", inboundPorts(workload), "spec.ports")
            .put("ISTIO_LOCAL_EXCLUDE_PORTS", excludedPorts(config, in.checks), "statusPort")
            .put("ISTIO_NAMESPACE", workload.namespace(), "metadata.namespace")
            .put("ISTIO_SERVICE", workload.name() + "." + workload.namespace(), "metadata.name")
            .put("ISTIO_SERVICE_CIDR", "*", "ISTIO_SERVICE_CIDR")
            .put("SERVICE_ACCOUNT", in.serviceAccount, "spec.serviceAccount");
    caAddress.ifPresent(address -> env.put("CA_ADDR", address, "global.caAddress"));
    if (workload.kind() == Workload.Kind.WORKLOAD_ENTRY) {
      in.instanceIp().ifPresent(ip -> env.put("ISTIO_SVC_IP", ip, "spec.address"));
    }
    String pilotSni = in.sniFor(discoveryAddress);
    if (!pilotSni.isEmpty()) {
      env.put("PILOT_SNI", pilotSni, "PILOT_SNI");
    }
    String caSni = in.sniFor(caAddress.orElse(discoveryAddress));
    if (!caSni.isEmpty()) {
      env.put("CA_SNI", caSni, "CA_SNI");
    }
    return env;
  }

  /** The value of the first of {@code names} set in {@code labels}, else {@code fallback}. */
  private static String firstLabel(Map<String, String> labels, String fallback, String... names) {
    for (String name : names) {
      String value = labels.get(name);
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    return fallback;
  }

  /** The workload's port numbers, ascending and comma-separated, or {@code *} for all ports. */
  private static String inboundPorts(Workload workload) {
    Set<Integer> ports = new TreeSet<>(workload.ports().values());
    if (ports.isEmpty()) {
      return "*";
    }
    StringBuilder text = new StringBuilder();
    for (int port : ports) {
      text.append(text.length() == 0 ? "" : ",").append(port);
    }
    return text.toString();
  }

  /** SSH, Envoy's Prometheus and health ports and the agent's status port: never captured. */
  private static String excludedPorts(Map<String, Object> config, Checks checks) {
    Object configured = config.get("statusPort");
    int statusPort = DEFAULT_STATUS_PORT;
    if (configured != null) {
      OptionalInt parsed =
          configured instanceof Number n && n.doubleValue() == n.intValue()
              ? OptionalInt.of(n.intValue())
              : Names.parseNumber(String.valueOf(configured));
      if (parsed.isPresent() && parsed.getAsInt() >= 0 && parsed.getAsInt() <= 65535) {
        statusPort = parsed.getAsInt();
      } else {
        checks.add(
            "statusPort (ProxyConfig)",
            "'" + Names.printable(String.valueOf(configured)) + "' is not a port number");
      }
    }
    String ports = "22,15090,15021";
    return statusPort == 15090 || statusPort == 15021 || statusPort == 0
        ? ports
        : ports + "," + statusPort;
  }

  /**
   * {@code <gateway IP> istiod[-rev].<ns>.svc}, followed by the other cluster-local host names the
   * agent dials (the discovery and CA addresses when they differ), each once.
   */
  private static String hostsLine(
      String gatewayIp, String discoveryAddress, Optional<String> caAddress, MeshSnapshot mesh) {
    Set<String> names = new LinkedHashSet<>();
    names.add(mesh.istiodHost());
    List<String> others = new ArrayList<>();
    others.add(discoveryAddress);
    caAddress.ifPresent(others::add);
    for (String address : others) {
      if (Addresses.isClusterLocal(address)) {
        names.add(Addresses.host(address));
      }
    }
    return gatewayIp + " " + String.join(" ", names) + "\n";
  }

  /** Istio's {@code ReadinessProbe} as mesh.yaml holds it. */
  private static Map<String, Object> probeTree(ReadinessProbe probe) {
    Map<String, Object> tree = new LinkedHashMap<>();
    probe
        .httpPort()
        .ifPresent(
            port -> {
              Map<String, Object> http = new LinkedHashMap<>();
              probe.httpPath().ifPresent(path -> http.put("path", path));
              http.put("port", port);
              probe.httpScheme().ifPresent(scheme -> http.put("scheme", scheme));
              tree.put("httpGet", http);
            });
    probe.tcpPort().ifPresent(port -> tree.put("tcpSocket", Map.of("port", port)));
    if (!probe.execCommand().isEmpty()) {
      tree.put("exec", Map.of("command", probe.execCommand()));
    }
    probe.initialDelaySeconds().ifPresent(value -> tree.put("initialDelaySeconds", value));
    probe.periodSeconds().ifPresent(value -> tree.put("periodSeconds", value));
    probe.timeoutSeconds().ifPresent(value -> tree.put("timeoutSeconds", value));
    probe.successThreshold().ifPresent(value -> tree.put("successThreshold", value));
    probe.failureThreshold().ifPresent(value -> tree.put("failureThreshold", value));
    return ProxyConfigs.sortedCopy(tree);
  }

  private static SystemdLaunch.FileInstall install(String source, String destination, int mode) {
    return SystemdLaunch.FileInstall.builder()
        .source(source)
        .destination(destination)
        .mode(mode)
        .build();
  }

  /** Builds {@link SystemdBundleFactory}s. */
  public static final class Builder {
    private boolean dnsCapture = true;

    private Builder() {}

    /**
     * Whether the agent captures the VM's DNS queries ({@code ISTIO_META_DNS_CAPTURE=true}), so
     * that mesh service names resolve on the VM; on by default, as in Istio's own flow. A {@code
     * proxyMetadata} entry for it (mesh or {@code proxy.istio.io/config}) wins either way.
     */
    public Builder dnsCapture(boolean capture) {
      this.dnsCapture = capture;
      return this;
    }

    /** The factory. */
    public SystemdBundleFactory build() {
      return new SystemdBundleFactory(this);
    }
  }
}
