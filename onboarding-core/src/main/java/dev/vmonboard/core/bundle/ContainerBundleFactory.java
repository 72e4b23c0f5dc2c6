package dev.vmonboard.core.bundle;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
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
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds the bundle of a proxy that runs as a container on the VM ({@code proxyv2} with {@code
 * docker run}, the {@code sidecar-bootstrap} style) from a WorkloadEntry.
 *
 * <p>Files: {@value #ENV_FILE} (the agent's environment, one {@code NAME=value} per line for {@code
 * --env-file}), {@value #ROOT_CERT} (the mesh root certificate), {@value #KUBERNETES_CA} (when the
 * mesh snapshot has the Kubernetes CA) and, added by the pipeline, the token {@value #TOKEN}
 * (0600). The launch is a {@link ContainerLaunch}: host network, restart unless stopped, the token
 * directory and the CA mounted read-only, {@code --add-host} aliases that send cluster-local
 * control-plane names to the gateway IP (each alias once), then {@code proxy sidecar ...}.
 *
 * <p>The token is in a directory of its own, {@value #TOKEN_DIRECTORY}, and the container mounts
 * that directory ({@code <config dir>/tokens:/var/run/secrets/tokens:ro}), not the file. A token
 * refresh ({@link dev.vmonboard.core.Transport#deliverToken}) renames a new file over the old one
 * inside that directory, and the running proxy sees the new file at once. A bind mount of the file
 * itself would pin the old file's inode: the proxy would keep reading the old token until the
 * container is re-created. The directory holds the token only.
 *
 * <p>Renewed certificates survive re-creating the container: {@code /var/run/secrets/istio}, where
 * the agent reads the root certificate and writes its renewed key and certificate ({@code
 * PROV_CERT}, {@code OUTPUT_CERTS}), is a {@linkplain ContainerLaunch.HostDirectory host directory}
 * next to the config directory ({@code <config dir>-certs}). It is outside the config directory on
 * purpose: every delivery replaces the config directory whole, and must not take the certificates
 * with it. The launcher (or the offline start script) creates it owner-only and copies the root
 * certificate in before each start.
 *
 * <p>Pure: no I/O; the same inputs give the same bundle. Thread-safe.
 */
public final class ContainerBundleFactory implements BundleFactory {

  /** The environment file. */
  public static final String ENV_FILE = "sidecar.env";

  /** The mesh root certificate. */
  public static final String ROOT_CERT = "istio-ca.pem";

  /** The Kubernetes API server's CA certificate, when known. */
  public static final String KUBERNETES_CA = "k8s-ca.pem";

  /**
   * The directory of the bootstrap token, relative to the config directory; mounted into the
   * container as {@code /var/run/secrets/tokens}.
   */
  public static final String TOKEN_DIRECTORY = "tokens";

  /** The bootstrap token, added by the pipeline, inside {@value #TOKEN_DIRECTORY}. */
  public static final String TOKEN = TOKEN_DIRECTORY + "/istio-token";

  /** Appended to the config directory's path to name the certificate directory. */
  public static final String CERTIFICATE_DIRECTORY_SUFFIX = "-certs";

  static final Pattern CONTAINER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
  static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}");
  static final Pattern HUB = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:-]{0,254}");
  static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  static final Pattern LOG_LEVEL =
      Pattern.compile("trace|debug|info|warning|warn|error|critical|off");
  static final Pattern COMPONENT_LOG_LEVEL =
      Pattern.compile(
          "[a-z_0-9]+:(trace|debug|info|warning|warn|error|critical|off)"
              + "(,[a-z_0-9]+:(trace|debug|info|warning|warn|error|critical|off))*");
  static final Pattern INTERCEPTION_MODE = Pattern.compile("NONE|REDIRECT|TPROXY");
  static final Pattern SERVICE_CLUSTER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}");

  private static final String LOG_LEVEL_EXPECTED =
      "a log level (trace, debug, info, warning, error, critical, off)";
  private static final String COMPONENT_LOG_LEVEL_EXPECTED =
      "a list of component:level, e.g. misc:error,upstream:info";

  private final int concurrency;
  private final Optional<String> logLevel;
  private final Optional<String> componentLogLevel;

  private ContainerBundleFactory(Builder builder) {
    this.concurrency = builder.concurrency;
    this.logLevel = builder.logLevel;
    this.componentLogLevel = builder.componentLogLevel;
  }

  /** A factory with Istio's defaults: all cores, the mesh's log levels. */
  public static ContainerBundleFactory create() {
    return builder().build();
  }

  /** A builder, to set the caller's defaults for concurrency and log levels. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * @throws InvalidInputException when the workload is not a WorkloadEntry, or a value would give a
   *     proxy that cannot start or files that do not parse; every problem is listed, each naming
   *     its annotation, label or install value
   */
  @Override
  public Bundle build(Workload workload, MeshSnapshot mesh) {
    Inputs in = new Inputs(workload, mesh);
    in.checkRootCertificate(true);
    Checks checks = in.checks;
    if (workload.kind() != Workload.Kind.WORKLOAD_ENTRY) {
      checks.add(
          "kind",
          "the container style needs a WorkloadEntry (one VM with its address); build a"
              + " WorkloadGroup's bundle with SystemdBundleFactory");
      checks.throwIfAny();
    }
    Map<String, Object> annotationConfig = ProxyConfigs.ofAnnotation(workload, checks);
    Map<String, Object> expansion = ProxyConfigs.ofExpansion(mesh, checks);
    int threads =
        ProxyConfigs.concurrency(annotationConfig, ProxyConfigs.ANNOTATION_SOURCE, checks)
            .or(() -> ProxyConfigs.concurrency(expansion, ProxyConfigs.EXPANSION_SOURCE, checks))
            .orElse(concurrency);
    Map<String, Object> proxyConfig = proxyConfig(in, expansion, annotationConfig);
    String serviceCluster = ProxyConfigs.text(proxyConfig, "serviceCluster").orElse("");
    checks.matches(
        "serviceCluster (ProxyConfig)",
        serviceCluster,
        SERVICE_CLUSTER,
        "a service cluster name (letters, digits, '.', '_', ':' and '-')");

    List<BundleFile> files = new ArrayList<>();
    files.add(BundleFile.of(ENV_FILE, 0644, sidecarEnv(in, proxyConfig).dockerFormat()));
    files.add(BundleFile.of(ROOT_CERT, 0644, Inputs.utf8(in.rootCertificate())));
    ContainerLaunch.Builder launch =
        ContainerLaunch.builder()
            .containerName(
                in.annotation(
                        BootstrapAnnotation.PROXY_CONTAINER_NAME,
                        CONTAINER_NAME,
                        "a container name (letters, digits, '_', '.' and '-')")
                    .orElse("istio-proxy"))
            .image(image(in))
            .addMounts(ContainerLaunch.Mount.of(TOKEN_DIRECTORY, "/var/run/secrets/tokens", true))
            .addHostDirectories(
                ContainerLaunch.HostDirectory.of(
                    CERTIFICATE_DIRECTORY_SUFFIX,
                    Inputs.SECRETS_DIR,
                    Map.of(ROOT_CERT, "root-cert.pem")))
            .envFile(ENV_FILE)
            .args(proxyArguments(in, serviceCluster, threads));
    mesh.kubernetesCaCertificate()
        .ifPresent(
            ca -> {
              files.add(BundleFile.of(KUBERNETES_CA, 0644, Inputs.utf8(ca)));
              launch.addMounts(
                  ContainerLaunch.Mount.of(
                      KUBERNETES_CA, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", true));
            });
    in.gatewayIp().ifPresent(ip -> launch.hostAliases(hostAliases(in, proxyConfig, ip)));

    checks.throwIfAny();
    return Bundle.builder()
        .workload(workload.ref())
        .files(files)
        .tokenPath(TOKEN)
        .launch(launch.build())
        .build();
  }

  /**
   * The effective ProxyConfig: Istio's built-ins and the mesh's {@code defaultConfig} without its
   * {@code concurrency} (VMs use their own cores), {@code serviceCluster}, then the mesh-expansion
   * overrides, cluster-local addresses pointed at a host-name gateway, then the workload's
   * annotation (its addresses kept as written). Each layer applies as the anchor's protobuf-JSON
   * unmarshal: a scalar replaces, a message section merges, a map such as {@code proxyMetadata} is
   * replaced whole; a {@code concurrency} set by the expansion or the annotation stays.
   */
  private static Map<String, Object> proxyConfig(
      Inputs in, Map<String, Object> expansion, Map<String, Object> annotationConfig) {
    MeshSnapshot mesh = in.mesh;
    Map<String, Object> base =
        new LinkedHashMap<>(
            IstioConfig.deepMerge(
                IstioConfig.builtInProxyConfig(mesh.istioNamespace(), mesh.revision()),
                ProxyConfigs.ofMesh(mesh, in.checks)));
    base.remove(ProxyConfigs.CONCURRENCY);
    base.put("serviceCluster", in.appOrServiceAccount + "." + in.workload.namespace());
    Map<String, Object> proxyConfig = ProxyConfigs.merge(base, expansion, Map.of());
    in.gatewayHostname()
        .ifPresent(host -> ProxyConfigs.pointAtGateway(proxyConfig, host, in.workload.namespace()));
    return ProxyConfigs.merge(proxyConfig, annotationConfig, Map.of());
  }

  /** {@code sidecar.env}: {@code proxyMetadata}, then every variable of the reference's table. */
  private static EnvFile sidecarEnv(Inputs in, Map<String, Object> proxyConfig) {
    Workload workload = in.workload;
    String address = workload.address().orElse("");
    String namespace = workload.namespace();
    String discoveryAddress = ProxyConfigs.discoveryAddress(proxyConfig, in.checks);
    String caAddress = in.caAddress.map(in::reachable).orElse(discoveryAddress);
    return new EnvFile(in.checks)
        .putAll(ProxyConfigs.metadata(proxyConfig), "proxyMetadata")
        .put("JWT_POLICY", in.jwtPolicy, "global.jwtPolicy")
        .put("PROV_CERT", Inputs.SECRETS_DIR, "PROV_CERT")
        .put("OUTPUT_CERTS", Inputs.SECRETS_DIR, "OUTPUT_CERTS")
        .put("PILOT_CERT_PROVIDER", in.pilotCertProvider, "global.pilotCertProvider")
        .put("CA_ADDR", caAddress, "CA_ADDR")
        .put("CA_SNI", in.sniFor(caAddress), "CA_SNI")
        .put("PILOT_SNI", in.sniFor(discoveryAddress), "PILOT_SNI")
        .put("POD_NAME", workload.name() + "-" + Inputs.shortHash(address), "metadata.name")
        .put("POD_NAMESPACE", namespace, "metadata.namespace")
        .put("IDENTITY_IP", address, "spec.address")
        .put("HOST_IP", address, "spec.address")
        .put("INSTANCE_IP", instanceIp(in), BootstrapAnnotation.PROXY_INSTANCE_IP.key())
        .put("SERVICE_ACCOUNT", in.serviceAccount, "spec.serviceAccount")
        .put("CANONICAL_SERVICE", in.label(Inputs.CANONICAL_NAME_LABEL), "labels")
        .put("CANONICAL_REVISION", in.label(Inputs.CANONICAL_REVISION_LABEL), "labels")
        .put("PROXY_CONFIG", ProxyConfigs.json(proxyConfig), "ProxyConfig")
        .put("ISTIO_META_CLUSTER_ID", in.clusterId, "global.multiCluster.clusterName")
        .put(
            "ISTIO_META_INTERCEPTION_MODE",
            in.annotation(
                    BootstrapAnnotation.INTERCEPTION_MODE,
                    INTERCEPTION_MODE,
                    "an interception mode (NONE, REDIRECT or TPROXY)")
                .orElse("NONE"),
            BootstrapAnnotation.INTERCEPTION_MODE.key())
        .put("ISTIO_META_NETWORK", in.network, "spec.network or global.network")
        .put("ISTIO_METAJSON_LABELS", in.labelsJson(), "labels")
        .put("ISTIO_METAJSON_ISTIO_ANNOTATIONS", in.istioAnnotationsJson(), "annotations")
        .put("ISTIO_META_WORKLOAD_NAME", in.appOrServiceAccount, "labels.app or serviceAccount")
        .put(
            "ISTIO_META_OWNER",
            "kubernetes://apis/networking.istio.io/v1beta1/namespaces/"
                + namespace
                + "/workloadentries/"
                + workload.name(),
            "metadata")
        .put("ISTIO_META_MESH_ID", in.meshId, "global.meshID or trust domain");
  }

  /** {@code proxy sidecar --serviceCluster ... --trust-domain ...}. */
  private List<String> proxyArguments(Inputs in, String serviceCluster, int threads) {
    return List.of(
        "proxy",
        "sidecar",
        "--serviceCluster",
        serviceCluster,
        "--concurrency",
        Integer.toString(threads),
        "--proxyLogLevel",
        level(
            in,
            BootstrapAnnotation.LOG_LEVEL,
            logLevel,
            in.mesh.values().logLevel(),
            "global.proxy.logLevel",
            LOG_LEVEL,
            LOG_LEVEL_EXPECTED),
        "--proxyComponentLogLevel",
        level(
            in,
            BootstrapAnnotation.COMPONENT_LOG_LEVEL,
            componentLogLevel,
            in.mesh.values().componentLogLevel(),
            "global.proxy.componentLogLevel",
            COMPONENT_LOG_LEVEL,
            COMPONENT_LOG_LEVEL_EXPECTED),
        "--trust-domain",
        in.trustDomain);
  }

  private static String instanceIp(Inputs in) {
    Optional<String> ip = in.instanceIp();
    if (ip.isEmpty()) {
      in.checks.add(
          "spec.address",
          "'"
              + Names.printable(in.workload.address().orElse(""))
              + "' is not an IP address, and the proxy needs one to bind inbound listeners to;"
              + " set the annotation "
              + BootstrapAnnotation.PROXY_INSTANCE_IP.key());
      return "";
    }
    return ip.get();
  }

  /**
   * {@code sidecar.istio.io/proxyImage}, else {@code <hub>/<image>:<tag>} with the {@code
   * proxy-image-hub} annotation or {@code global.hub}; a {@code global.proxy.image} that contains a
   * {@code /} is already a whole image.
   */
  private static String image(Inputs in) {
    Optional<String> annotated =
        in.annotation(BootstrapAnnotation.PROXY_IMAGE, IMAGE, "an image reference");
    if (annotated.isPresent()) {
      return annotated.get();
    }
    String proxyImage = in.mesh.values().proxyImage();
    if (!in.checks.matches("global.proxy.image", proxyImage, IMAGE, "an image name")) {
      return "";
    }
    if (proxyImage.contains("/")) {
      return proxyImage;
    }
    String hub =
        in.annotation(BootstrapAnnotation.PROXY_IMAGE_HUB, HUB, "a registry hub, e.g. gcr.io/istio")
            .orElseGet(
                () -> {
                  String global = in.mesh.values().hub();
                  return in.checks.matches("global.hub", global, HUB, "a registry hub")
                      ? global
                      : "";
                });
    String tag = in.mesh.values().tag();
    in.checks.matches("global.tag", tag, TAG, "an image tag");
    while (hub.endsWith("/")) {
      hub = hub.substring(0, hub.length() - 1);
    }
    return hub + "/" + proxyImage + ":" + tag;
  }

  /** The annotation, else the factory's option, else the install value: the first one set. */
  private static String level(
      Inputs in,
      BootstrapAnnotation annotation,
      Optional<String> option,
      String installed,
      String installedField,
      Pattern pattern,
      String expected) {
    return in.annotation(annotation, pattern, expected)
        .or(() -> option)
        .orElseGet(
            () -> in.checks.matches(installedField, installed, pattern, expected) ? installed : "");
  }

  /**
   * One alias per name of each cluster-local control-plane address (istiod as the mesh names it,
   * the configured discovery address, tracing, access log and metrics services, the CA), all
   * resolving to the gateway's IP; each alias once, in order of first appearance.
   */
  private static List<ContainerLaunch.HostAlias> hostAliases(
      Inputs in, Map<String, Object> proxyConfig, String gatewayIp) {
    List<String> candidates = new ArrayList<>();
    candidates.add(in.mesh.istiodHost() + ":15012");
    candidates.addAll(ProxyConfigs.controlPlaneAddresses(proxyConfig));
    in.caAddress.ifPresent(candidates::add);
    Set<String> names = new LinkedHashSet<>();
    for (String candidate : candidates) {
      if (Addresses.isClusterLocal(candidate)) {
        names.addAll(Addresses.aliases(candidate, in.workload.namespace()));
      }
    }
    List<ContainerLaunch.HostAlias> aliases = new ArrayList<>();
    for (String name : names) {
      aliases.add(ContainerLaunch.HostAlias.of(name, gatewayIp));
    }
    return aliases;
  }

  /** Builds {@link ContainerBundleFactory}s with the caller's defaults. */
  public static final class Builder {
    private int concurrency;
    private Optional<String> logLevel = Optional.empty();
    private Optional<String> componentLogLevel = Optional.empty();

    private Builder() {}

    /**
     * The {@code --concurrency} (Envoy worker threads) of proxies whose ProxyConfig (mesh-expansion
     * overrides or {@code proxy.istio.io/config}) sets none; 0, the default, means one per core.
     */
    public Builder concurrency(int threads) {
      if (threads < 0) {
        throw InvalidInputException.of(
            null,
            "container bundle options",
            Problem.of("concurrency", threads + " is negative; 0 means one thread per core"));
      }
      this.concurrency = threads;
      return this;
    }

    /**
     * The proxy log level instead of the mesh's {@code global.proxy.logLevel}, e.g. {@code debug}
     * while troubleshooting; a workload's {@code sidecar.istio.io/logLevel} still wins.
     */
    public Builder logLevel(String level) {
      this.logLevel = Optional.of(checked("logLevel", level, LOG_LEVEL, LOG_LEVEL_EXPECTED));
      return this;
    }

    /**
     * The per-component log levels instead of the mesh's {@code global.proxy.componentLogLevel}; a
     * workload's {@code sidecar.istio.io/componentLogLevel} still wins.
     */
    public Builder componentLogLevel(String levels) {
      this.componentLogLevel =
          Optional.of(
              checked(
                  "componentLogLevel", levels, COMPONENT_LOG_LEVEL, COMPONENT_LOG_LEVEL_EXPECTED));
      return this;
    }

    /** The factory. */
    public ContainerBundleFactory build() {
      return new ContainerBundleFactory(this);
    }

    private static String checked(String field, String value, Pattern pattern, String expected) {
      Checks checks = new Checks(null);
      checks.matches(field, value, pattern, expected);
      checks.throwIfAny("container bundle options");
      return value;
    }
  }
}
