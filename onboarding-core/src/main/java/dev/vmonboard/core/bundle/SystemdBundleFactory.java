package dev.vmonboard.core.bundle;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Builds the bundle of a proxy installed with Istio's {@code istio-sidecar} package and run by
 * systemd: the files {@code istioctl x workload entry configure} writes for a WorkloadGroup, key
 * for key with Istio's values (the rules of Istio's {@code istioctl/pkg/workload/workload.go}),
 * from a WorkloadGroup or a WorkloadEntry (treated as a group of one VM).
 *
 * <p>Files: {@value #CLUSTER_ENV} (the agent's environment, {@code NAME='value'} lines sorted by
 * name), {@value #MESH_CONFIG} ({@code defaultConfig}: the mesh's {@code defaultConfig}, the {@code
 * proxy.istio.io/config} annotations over it, the revision's discovery address when none is set,
 * {@code proxyMetadata} and the group's probe as {@code readinessProbe}), {@value #ROOT_CERT} (the
 * workload namespace's {@code istio-ca-root-cert}), {@value #HOSTS} ({@code <ingress IP>
 * istiod[-rev].<ns>.svc}, empty when there is no ingress IP) and, added by the pipeline, {@value
 * #TOKEN} (0600, where Istio writes 0744). The launch is a {@link SystemdLaunch}: where each file
 * goes, owned by {@code istio-proxy} (the hosts line is appended to {@code /etc/hosts} once), then
 * the {@code istio} unit.
 *
 * <p>Istio's command-line options are the builder's: {@code --capture-dns} ({@link
 * Builder#dnsCapture}), {@code --autoregister} ({@link Builder#autoRegister}), {@code --clusterID}
 * ({@link Builder#clusterId}), {@code --internalIP} / {@code --externalIP} ({@link
 * Builder#internalIp} / {@link Builder#externalIp}); the revision, the Istio namespace and the
 * ingress come with the {@link MeshSnapshot}.
 *
 * <p>Where this SDK goes beyond Istio, it adds and never changes a value Istio defines: a
 * WorkloadEntry without {@code --internalIP} gets {@code ISTIO_SVC_IP} from its {@code
 * proxy-instance-ip} annotation or IP address; the mesh-expansion overrides apply under the
 * annotations; a gateway known by host name only gets a {@code hosts} line for the IP that name
 * resolved to when the mesh was read (Istio writes an empty file).
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
  private static final Pattern CLUSTER_ID = Pattern.compile("[A-Za-z0-9][-A-Za-z0-9_.]*");
  private static final String READINESS_PROBE = "readinessProbe";

  private final boolean dnsCapture;
  private final boolean autoRegister;
  private final Optional<String> clusterId;
  private final Optional<String> internalIp;
  private final Optional<String> externalIp;

  private SystemdBundleFactory(Builder builder) {
    this.dnsCapture = builder.dnsCapture;
    this.autoRegister = builder.autoRegister;
    this.clusterId = builder.clusterId;
    this.internalIp = builder.internalIp;
    this.externalIp = builder.externalIp;
  }

  /** A factory with istioctl's defaults: DNS capture on, no auto-registration, no IP given. */
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
    in.checkRootCertificate(false);
    Checks checks = in.checks;
    Map<String, Object> config = new TreeMap<>(ProxyConfigs.ofMesh(mesh, checks));
    Map<String, String> metadata = ProxyConfigs.metadata(config);
    if (mesh.revision().isPresent()
        && ProxyConfigs.text(config, ProxyConfigs.DISCOVERY_ADDRESS).orElse("").isEmpty()) {
      config.put(ProxyConfigs.DISCOVERY_ADDRESS, istiodAddress(mesh));
    }
    List<Map<String, Object>> layers =
        List.of(
            ProxyConfigs.ofExpansion(mesh, checks),
            ProxyConfigs.ofAnnotationText(
                Optional.ofNullable(
                    workload.metadataAnnotations().get(BootstrapAnnotation.PROXY_CONFIG.key())),
                checks),
            ProxyConfigs.ofAnnotation(workload, checks));
    for (Map<String, Object> layer : layers) {
      // Each layer is a protobuf-JSON unmarshal onto the ProxyConfig: a field it sets replaces
      // the whole field; istioctl merges proxyMetadata key by key on top of that.
      config.putAll(ProxyConfigs.sortedCopy(layer));
      metadata.putAll(ProxyConfigs.metadata(layer));
    }
    ProxyConfigs.discoveryAddress(config, checks);
    config.remove(READINESS_PROBE);
    workload.readinessProbe().ifPresent(probe -> config.put(READINESS_PROBE, probeTree(probe)));
    metadata.putAll(derivedMetadata(in, config));
    EnvFile metadataChecked = new EnvFile(checks).putAll(metadata, "proxyMetadata");
    config.put(ProxyConfigs.METADATA, new TreeMap<>(metadataChecked.values()));
    EnvFile clusterEnv = clusterEnv(in, metadataChecked.values(), config);

    List<BundleFile> files = new ArrayList<>();
    files.add(BundleFile.of(CLUSTER_ENV, 0644, clusterEnv.shellFormat()));
    files.add(
        BundleFile.of(
            MESH_CONFIG, 0644, Inputs.utf8(IstioConfig.toYaml(Map.of("defaultConfig", config)))));
    files.add(BundleFile.of(ROOT_CERT, 0644, Inputs.utf8(in.rootCertificate())));
    SystemdLaunch.Builder launch =
        SystemdLaunch.builder()
            .addInstalls(install(ROOT_CERT, "/etc/certs/root-cert.pem", 0644))
            .addInstalls(install(TOKEN, "/var/run/secrets/tokens/istio-token", 0600))
            .addInstalls(install(CLUSTER_ENV, "/var/lib/istio/envoy/cluster.env", 0644))
            .addInstalls(install(MESH_CONFIG, "/etc/istio/config/mesh", 0644));
    String hosts = hosts(mesh);
    files.add(BundleFile.of(HOSTS, 0644, Inputs.utf8(hosts)));
    if (!hosts.isEmpty()) {
      launch.addInstalls(
          SystemdLaunch.FileInstall.builder()
              .source(HOSTS)
              .destination("/etc/hosts")
              .owner("root")
              .group("root")
              .mode(0644)
              .append(true)
              .build());
    }

    checks.throwIfAny();
    return Bundle.builder()
        .workload(workload.ref())
        .files(files)
        .tokenPath(TOKEN)
        .launch(launch.build())
        .build();
  }

  /**
   * What istioctl derives into {@code proxyMetadata}, over whatever the ProxyConfig layers set:
   * canonical service and revision, namespace, identity, trust domain, cluster, mesh, network, pod
   * ports, workload name, labels, DNS capture (only when on) and auto-registration (only when on).
   */
  private Map<String, String> derivedMetadata(Inputs in, Map<String, Object> config) {
    Workload workload = in.workload;
    Map<String, String> labels = new TreeMap<>(workload.labels());
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
    Map<String, String> derived = new LinkedHashMap<>();
    derived.put("CANONICAL_SERVICE", canonicalService);
    derived.put("CANONICAL_REVISION", canonicalRevision);
    derived.put("POD_NAMESPACE", workload.namespace());
    derived.put("SERVICE_ACCOUNT", in.serviceAccount);
    derived.put("TRUST_DOMAIN", meshTrustDomain(in.mesh));
    derived.put(
        "ISTIO_META_CLUSTER_ID", clusterId.or(() -> in.mesh.values().clusterName()).orElse(""));
    derived.put("ISTIO_META_MESH_ID", ProxyConfigs.text(config, "meshId").orElse(""));
    derived.put("ISTIO_META_NETWORK", workload.network().orElse(""));
    podPorts(workload).ifPresent(ports -> derived.put("ISTIO_META_POD_PORTS", ports));
    derived.put("ISTIO_META_WORKLOAD_NAME", workload.name());
    derived.put("ISTIO_METAJSON_LABELS", IstioConfig.toCompactJson(new TreeMap<>(labels)));
    if (dnsCapture) {
      derived.put("ISTIO_META_DNS_CAPTURE", "true");
    }
    if (autoRegister) {
      derived.put("ISTIO_META_AUTO_REGISTER_GROUP", workload.name());
    }
    return derived;
  }

  /**
   * {@code cluster.env}: the whole {@code proxyMetadata}, then what only the environment carries:
   * inbound and excluded ports, namespace, service, CIDR, identity, the revision's CA, and the
   * workload's IP when one is known.
   */
  private EnvFile clusterEnv(Inputs in, Map<String, String> metadata, Map<String, Object> config) {
    Workload workload = in.workload;
    MeshSnapshot mesh = in.mesh;
    EnvFile env =
        new EnvFile(in.checks)
            .putAll(metadata, "proxyMetadata")
            .put("ISTIO_INBOUND_PORTS", inboundPorts(workload), "spec.ports")
            .put("ISTIO_LOCAL_EXCLUDE_PORTS", excludedPorts(config, in.checks), "statusPort")
            .put("ISTIO_NAMESPACE", workload.namespace(), "metadata.namespace")
            .put("ISTIO_SERVICE", workload.name() + "." + workload.namespace(), "metadata.name")
            .put("ISTIO_SERVICE_CIDR", "*", "ISTIO_SERVICE_CIDR")
            .put("SERVICE_ACCOUNT", in.serviceAccount, "spec.serviceAccount");
    if (mesh.revision().isPresent()) {
      env.put("CA_ADDR", istiodAddress(mesh), "revision");
    }
    if (internalIp.isPresent()) {
      env.put("ISTIO_SVC_IP", internalIp.get(), "internalIP");
    } else if (externalIp.isPresent()) {
      env.put("ISTIO_SVC_IP", externalIp.get(), "externalIP");
      env.put("REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION", "true", "externalIP");
    } else if (workload.kind() == Workload.Kind.WORKLOAD_ENTRY) {
      in.instanceIp().ifPresent(ip -> env.put("ISTIO_SVC_IP", ip, "spec.address"));
    }
    return env;
  }

  /** {@code istiod[-rev].<ns>.svc:15012}. */
  private static String istiodAddress(MeshSnapshot mesh) {
    return mesh.istiodHost() + ":15012";
  }

  /** MeshConfig's {@code trustDomain} as set, else empty (istioctl applies no default). */
  private static String meshTrustDomain(MeshSnapshot mesh) {
    Object configured = mesh.meshConfig().get("trustDomain");
    return configured == null ? "" : String.valueOf(configured);
  }

  /**
   * The value of the first of {@code names} present in {@code labels} (empty counts), else {@code
   * fallback}.
   */
  private static String firstLabel(Map<String, String> labels, String fallback, String... names) {
    for (String name : names) {
      String value = labels.get(name);
      if (value != null) {
        return value;
      }
    }
    return fallback;
  }

  /** Kubernetes' pod ports JSON of the workload's named ports, sorted by name; none without. */
  private static Optional<String> podPorts(Workload workload) {
    if (workload.ports().isEmpty()) {
      return Optional.empty();
    }
    List<Map<String, Object>> ports = new ArrayList<>();
    new TreeMap<>(workload.ports())
        .forEach(
            (name, number) -> {
              Map<String, Object> port = new LinkedHashMap<>();
              port.put("name", name);
              port.put("containerPort", number);
              port.put("protocol", "");
              ports.add(port);
            });
    return Optional.of(IstioConfig.toCompactJson(ports));
  }

  /**
   * The workload's port numbers (one per named port, ascending), comma-separated, or {@code *} for
   * all ports.
   */
  private static String inboundPorts(Workload workload) {
    List<Integer> ports = new ArrayList<>(workload.ports().values());
    if (ports.isEmpty()) {
      return "*";
    }
    ports.sort(null);
    StringBuilder text = new StringBuilder();
    for (int port : ports) {
      text.append(text.length() == 0 ? "" : ",").append(port);
    }
    return text.toString();
  }

  /**
   * SSH, Envoy's Prometheus and health ports and the agent's status port ({@value
   * #DEFAULT_STATUS_PORT} when unset or 0): never captured.
   */
  private static String excludedPorts(Map<String, Object> config, Checks checks) {
    Object configured = config.get("statusPort");
    int statusPort = 0;
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
    if (statusPort == 15090 || statusPort == 15021) {
      return ports;
    }
    return ports + "," + (statusPort == 0 ? DEFAULT_STATUS_PORT : statusPort);
  }

  /**
   * {@code <ingress IP> istiod[-rev].<ns>.svc}; for an ingress known by host name, the first IP it
   * resolved to, after a comment naming the host; empty when there is no IP.
   */
  private static String hosts(MeshSnapshot mesh) {
    Optional<GatewayAddress> ingress = mesh.ingress();
    if (ingress.isEmpty()) {
      return "";
    }
    GatewayAddress address = ingress.get();
    if (!address.isHostname()) {
      return address.address() + " " + mesh.istiodHost() + "\n";
    }
    if (address.resolvedIps().isEmpty()) {
      return "";
    }
    return "# "
        + mesh.istiodHost()
        + " through the gateway "
        + address.address()
        + " (resolved when the bundle was built)\n"
        + address.resolvedIps().get(0)
        + " "
        + mesh.istiodHost()
        + "\n";
  }

  /**
   * Istio's {@code ReadinessProbe} as istioctl writes it into mesh.yaml (protobuf JSON: fields at
   * their zero value, such as an unset path or a 0 delay, are left out).
   */
  private static Map<String, Object> probeTree(ReadinessProbe probe) {
    Map<String, Object> tree = new LinkedHashMap<>();
    probe
        .httpPort()
        .ifPresent(
            port -> {
              Map<String, Object> http = new LinkedHashMap<>();
              probe
                  .httpPath()
                  .filter(path -> !path.isEmpty())
                  .ifPresent(path -> http.put("path", path));
              putNonZero(http, "port", Optional.of(port));
              probe
                  .httpScheme()
                  .filter(scheme -> !scheme.isEmpty())
                  .ifPresent(scheme -> http.put("scheme", scheme));
              putNonEmpty(http, "host", probe.httpHost());
              List<Map<String, Object>> headers = new ArrayList<>();
              for (ReadinessProbe.HttpHeader header : probe.httpHeaders()) {
                Map<String, Object> fields = new LinkedHashMap<>();
                putNonEmpty(fields, "name", Optional.ofNullable(header.name()));
                putNonEmpty(fields, "value", Optional.ofNullable(header.value()));
                headers.add(fields);
              }
              if (!headers.isEmpty()) {
                http.put("httpHeaders", headers);
              }
              tree.put("httpGet", http);
            });
    probe
        .tcpPort()
        .ifPresent(
            port -> {
              Map<String, Object> tcp = new LinkedHashMap<>();
              putNonZero(tcp, "port", Optional.of(port));
              putNonEmpty(tcp, "host", probe.tcpHost());
              tree.put("tcpSocket", tcp);
            });
    if (!probe.execCommand().isEmpty()) {
      tree.put("exec", Map.of("command", probe.execCommand()));
    }
    putNonZero(tree, "initialDelaySeconds", probe.initialDelaySeconds());
    putNonZero(tree, "periodSeconds", probe.periodSeconds());
    putNonZero(tree, "timeoutSeconds", probe.timeoutSeconds());
    putNonZero(tree, "successThreshold", probe.successThreshold());
    putNonZero(tree, "failureThreshold", probe.failureThreshold());
    return ProxyConfigs.sortedCopy(tree);
  }

  private static void putNonZero(Map<String, Object> tree, String key, Optional<Integer> value) {
    value.filter(number -> number != 0).ifPresent(number -> tree.put(key, number));
  }

  private static void putNonEmpty(Map<String, Object> tree, String key, Optional<String> value) {
    value.filter(text -> !text.isEmpty()).ifPresent(text -> tree.put(key, text));
  }

  private static SystemdLaunch.FileInstall install(String source, String destination, int mode) {
    return SystemdLaunch.FileInstall.builder()
        .source(source)
        .destination(destination)
        .mode(mode)
        .build();
  }

  /** Builds {@link SystemdBundleFactory}s; each option is one of {@code istioctl}'s. */
  public static final class Builder {
    private boolean dnsCapture = true;
    private boolean autoRegister;
    private Optional<String> clusterId = Optional.empty();
    private Optional<String> internalIp = Optional.empty();
    private Optional<String> externalIp = Optional.empty();

    private Builder() {}

    /**
     * {@code --capture-dns}: whether the agent captures the VM's DNS queries, so that mesh service
     * names resolve on the VM. On by default, as in istioctl; on, {@code
     * ISTIO_META_DNS_CAPTURE=true} wins over any {@code proxyMetadata} value; off, a {@code
     * proxyMetadata} value stays as it is.
     */
    public Builder dnsCapture(boolean capture) {
      this.dnsCapture = capture;
      return this;
    }

    /**
     * {@code --autoregister}: istiod creates the WorkloadEntry when the proxy connects ({@code
     * ISTIO_META_AUTO_REGISTER_GROUP} names the group). Off by default, as in istioctl.
     */
    public Builder autoRegister(boolean autoRegister) {
      this.autoRegister = autoRegister;
      return this;
    }

    /**
     * {@code --clusterID}: the cluster ID ({@code ISTIO_META_CLUSTER_ID}) instead of the install
     * value {@code global.multiCluster.clusterName}; empty text is a value too, as in istioctl.
     */
    public Builder clusterId(String clusterId) {
      this.clusterId = Optional.of(checked("clusterID", clusterId, false));
      return this;
    }

    /** {@code --internalIP}: the VM's IP ({@code ISTIO_SVC_IP}); not with {@link #externalIp}. */
    public Builder internalIp(String ip) {
      this.internalIp = Optional.of(checked("internalIP", ip, true));
      return this;
    }

    /**
     * {@code --externalIP}: the VM's external IP ({@code ISTIO_SVC_IP}, with {@code
     * REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION=true}); not with {@link #internalIp}.
     */
    public Builder externalIp(String ip) {
      this.externalIp = Optional.of(checked("externalIP", ip, true));
      return this;
    }

    /**
     * The factory.
     *
     * @throws InvalidInputException when both an internal and an external IP are set
     */
    public SystemdBundleFactory build() {
      if (internalIp.isPresent() && externalIp.isPresent()) {
        throw InvalidInputException.of(
            null,
            "systemd bundle options",
            Problem.of("internalIP, externalIP", "are mutually exclusive: set one"));
      }
      return new SystemdBundleFactory(this);
    }

    private static String checked(String field, String value, boolean ip) {
      Checks checks = new Checks(null);
      if (ip) {
        if (!Names.isIp(value)) {
          checks.add(field, "'" + Names.printable(value) + "' is not an IP address");
        }
      } else if (!value.isEmpty()) {
        checks.matches(field, value, CLUSTER_ID, "a name (letters, digits, '-', '_' and '.')");
      }
      checks.throwIfAny("systemd bundle options");
      return value;
    }
  }
}
