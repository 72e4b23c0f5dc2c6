package dev.vmonboard.k8s;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.mesh.MeshSnapshot;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.Config;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link MeshConfigSource}: reads an Istio installation from its Kubernetes cluster.
 *
 * <p>From the Istio namespace ({@code istio-system} unless told otherwise) and the revision (none
 * unless told): MeshConfig and {@code meshNetworks} from the ConfigMap {@code istio[-<rev>]}, the
 * install values from {@code istio-sidecar-injector[-<rev>]}, the root certificate from {@code
 * istio-ca-root-cert}, the Kubernetes CA from {@code kube-root-ca.crt} (else the CA of the client's
 * own configuration), the mesh-expansion ProxyConfig overrides from the ConfigMap the namespace's
 * {@code sidecar-bootstrap.istio.io/mesh-expansion-configmap} annotation names, and the gateway the
 * VMs dial: the {@code meshNetworks} gateway of the cluster's network, else {@code
 * istio-eastwestgateway}, else {@code istio-ingressgateway}, at its load balancer's host name (else
 * IP).
 *
 * <p>Before answering it checks what VM onboarding needs and reports every problem at once, naming
 * the object and field: {@code global.jwtPolicy} must be {@code third-party-jwt}, {@code
 * global.pilotCertProvider} {@code istiod}; the gateway must exist, expose 15012 and 15443 and have
 * an address (unless {@link Builder#gatewayRequired} says otherwise, as for the systemd style).
 * Malformed MeshConfig YAML or values JSON, a missing Istio namespace and an unknown revision are
 * refused the same way.
 *
 * <p>For the systemd style it also reads what {@code istioctl x workload entry configure} reads:
 * the ingress of the {@code hosts} file ({@link Builder#ingressIp}, else the {@link
 * Builder#ingressService} Service) and the {@code istio-ca-root-cert} of the workload namespaces
 * ({@link Builder#workloadNamespaces}). Nothing is cached: each {@link #snapshot()} reads the
 * cluster (the pipeline asks once per run). Thread-safe.
 */
public final class KubernetesMeshDiscovery implements MeshConfigSource {

  /** The ports a VM's gateway must expose: istiod (XDS and CA) and mTLS passthrough. */
  static final List<Integer> GATEWAY_PORTS = List.of(15012, 15443);

  static final String EASTWEST_GATEWAY = "istio-eastwestgateway";
  static final String INGRESS_GATEWAY = "istio-ingressgateway";

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesMeshDiscovery.class);

  private final KubernetesCluster cluster;
  private final String istioNamespace;
  private final Optional<String> revision;
  private final Optional<String> ingressIp;
  private final String ingressService;
  private final boolean gatewayRequired;
  private final Set<String> workloadNamespaces;

  private KubernetesMeshDiscovery(Builder builder) {
    this.cluster = builder.cluster;
    this.istioNamespace = builder.istioNamespace;
    this.revision = builder.revision;
    this.ingressIp = builder.ingressIp;
    this.ingressService = builder.ingressService;
    this.gatewayRequired = builder.gatewayRequired;
    this.workloadNamespaces = Set.copyOf(builder.workloadNamespaces);
  }

  /** Discovery of the default installation: namespace {@code istio-system}, no revision. */
  public static KubernetesMeshDiscovery create(KubernetesCluster cluster) {
    return builder(cluster).build();
  }

  /** A builder, to name another Istio namespace or a revision. */
  public static Builder builder(KubernetesCluster cluster) {
    return new Builder(Objects.requireNonNull(cluster, "cluster"));
  }

  @Override
  public MeshSnapshot snapshot() {
    Namespace namespace = namespace();
    String suffix = revision.map(rev -> "-" + rev).orElse("");
    ConfigMap istio = configMap("istio" + suffix);
    if (istio == null) {
      throw missingRevision();
    }
    String istioSource = "ConfigMap " + istioNamespace + "/" + istio.getMetadata().getName();
    Map<String, Object> meshConfig =
        IstioConfig.parseMeshConfig(data(istio, "mesh"), istioSource + " key mesh");
    Map<String, Object> meshNetworks =
        IstioConfig.parseMeshNetworks(
            data(istio, "meshNetworks"), istioSource + " key meshNetworks");
    ConfigMap injector = configMap("istio-sidecar-injector" + suffix);
    String injectorSource = "ConfigMap " + istioNamespace + "/istio-sidecar-injector" + suffix;
    InstallValues values =
        injector == null
            ? InstallValues.defaults()
            : IstioConfig.parseValues(data(injector, "values"), injectorSource + " key values");

    List<Problem> problems = new ArrayList<>();
    if (!"third-party-jwt".equals(values.jwtPolicy())) {
      problems.add(
          Problem.of(
              injectorSource + " values global.jwtPolicy",
              "is '"
                  + values.jwtPolicy()
                  + "'; VM proxies authenticate with third-party-jwt tokens: reinstall Istio with"
                  + " --set values.global.jwtPolicy=third-party-jwt"));
    }
    if (!"istiod".equals(values.pilotCertProvider())) {
      problems.add(
          Problem.of(
              injectorSource + " values global.pilotCertProvider",
              "is '"
                  + values.pilotCertProvider()
                  + "'; VM proxies need istiod to issue their certificates: reinstall Istio with"
                  + " --set values.global.pilotCertProvider=istiod"));
    }
    Map<String, String> namespaceRootCertificates = namespaceRootCertificates();
    String rootCertificate =
        rootCertificate(namespaceRootCertificates.isEmpty() ? problems : new ArrayList<>());
    List<Problem> gatewayProblems = gatewayRequired ? problems : new ArrayList<>();
    Optional<GatewayAddress> gateway = gateway(meshNetworks, values, gatewayProblems);
    if (!gatewayRequired && !gatewayProblems.isEmpty()) {
      LOG.debug("no usable gateway for the container style: {}", gatewayProblems);
    }
    Optional<GatewayAddress> ingress = ingress();
    Map<String, Object> expansion = meshExpansion(namespace);
    InvalidInputException.throwIfAny(
        null, "mesh configuration on " + cluster.description(), problems);

    MeshSnapshot snapshot =
        MeshSnapshot.builder()
            .istioNamespace(istioNamespace)
            .revision(revision)
            .meshConfig(meshConfig)
            .meshNetworks(meshNetworks)
            .values(values)
            .rootCertificate(rootCertificate)
            .kubernetesCaCertificate(kubernetesCa())
            .gateway(gateway)
            .ingress(ingress)
            .namespaceRootCertificates(namespaceRootCertificates)
            .meshExpansionProxyConfig(expansion)
            .build();
    LOG.debug(
        "read mesh {} (revision {}) on {}: gateway {}",
        istioNamespace,
        revision.orElse("default"),
        cluster.description(),
        gateway.map(GatewayAddress::address).orElse("none"));
    return snapshot;
  }

  @Override
  public String toString() {
    return "KubernetesMeshDiscovery["
        + istioNamespace
        + revision.map(rev -> " revision " + rev).orElse("")
        + " on "
        + cluster.description()
        + "]";
  }

  // --- objects -----------------------------------------------------------------------------

  private Namespace namespace() {
    Namespace namespace =
        cluster.call(
            "get",
            "",
            "namespaces",
            null,
            istioNamespace,
            () -> cluster.client().namespaces().withName(istioNamespace).get());
    if (namespace == null) {
      throw new NotFoundException(
          "the Istio namespace '" + istioNamespace + "' does not exist on " + cluster.description(),
          "install Istio there, or name the namespace Istio runs in"
              + " (KubernetesMeshDiscovery.builder(cluster).istioNamespace(...))");
    }
    return namespace;
  }

  private ConfigMap configMap(String name) {
    return configMap(istioNamespace, name);
  }

  private ConfigMap configMap(String namespace, String name) {
    return cluster.call(
        "get",
        "",
        "configmaps",
        namespace,
        name,
        () -> cluster.client().configMaps().inNamespace(namespace).withName(name).get());
  }

  private static String data(ConfigMap configMap, String key) {
    return configMap.getData() == null ? null : configMap.getData().get(key);
  }

  private StageException missingRevision() {
    Set<String> installed =
        cluster
            .call(
                "list",
                "",
                "configmaps",
                istioNamespace,
                null,
                () -> cluster.client().configMaps().inNamespace(istioNamespace).list().getItems())
            .stream()
            .map(c -> c.getMetadata().getName())
            .filter(name -> name.equals("istio") || name.startsWith("istio-"))
            .filter(
                name -> !name.startsWith("istio-sidecar-injector") && !name.startsWith("istio-ca-"))
            .filter(
                name ->
                    !name.equals("istio-leader") && !name.startsWith("istio-namespace-controller"))
            .map(
                name ->
                    name.equals("istio")
                        ? "default (no revision)"
                        : name.substring("istio-".length()))
            .collect(Collectors.toCollection(TreeSet::new));
    String wanted = revision.map(rev -> "revision '" + rev + "'").orElse("the default revision");
    return new NotFoundException(
        "Istio "
            + wanted
            + " is not installed in "
            + istioNamespace
            + " on "
            + cluster.description()
            + ": there is no ConfigMap "
            + istioNamespace
            + "/istio"
            + revision.map(rev -> "-" + rev).orElse("")
            + (installed.isEmpty() ? "" : "; installed revisions: " + installed),
        installed.isEmpty()
            ? "check the Istio namespace and that Istio is installed (istioctl verify-install)"
            : "name one of the installed revisions (KubernetesMeshDiscovery.builder(cluster)"
                + ".revision(...))");
  }

  private String rootCertificate(List<Problem> problems) {
    ConfigMap root = configMap("istio-ca-root-cert");
    String field = "ConfigMap " + istioNamespace + "/istio-ca-root-cert key root-cert.pem";
    String pem = root == null ? null : data(root, "root-cert.pem");
    if (pem == null || pem.isBlank()) {
      problems.add(
          Problem.of(
              field,
              "is missing; istiod writes it when it starts: check that istiod runs"
                  + " (kubectl -n "
                  + istioNamespace
                  + " get pods)"));
      return "";
    }
    if (!isCertificate(pem)) {
      problems.add(Problem.of(field, "is not a PEM certificate"));
    }
    return pem;
  }

  private static boolean isCertificate(String pem) {
    try {
      return !CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
          .isEmpty();
    } catch (CertificateException e) {
      return false;
    }
  }

  /** {@code kube-root-ca.crt} of the Istio namespace, else the CA the client itself trusts. */
  private Optional<String> kubernetesCa() {
    ConfigMap configMap = configMap("kube-root-ca.crt");
    String pem = configMap == null ? null : data(configMap, "ca.crt");
    if (pem != null && !pem.isBlank()) {
      return Optional.of(pem);
    }
    Config config = cluster.client().getConfiguration();
    if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
      String data = config.getCaCertData().trim();
      return Optional.of(
          data.startsWith("-----")
              ? data
              : new String(Base64.getMimeDecoder().decode(data), StandardCharsets.US_ASCII));
    }
    if (config.getCaCertFile() != null) {
      try {
        return Optional.of(Files.readString(Path.of(config.getCaCertFile())));
      } catch (IOException e) {
        LOG.debug("cannot read the client's CA file {}", config.getCaCertFile(), e);
      }
    }
    return Optional.empty();
  }

  private Map<String, Object> meshExpansion(Namespace namespace) {
    Map<String, String> annotations = Ownership.orEmpty(namespace.getMetadata().getAnnotations());
    String name = annotations.get(BootstrapAnnotation.MESH_EXPANSION_CONFIGMAP.key());
    if (name == null || name.isBlank()) {
      return Map.of();
    }
    ConfigMap configMap = configMap(name);
    if (configMap == null) {
      throw InvalidInputException.of(
          null,
          "mesh configuration",
          Problem.of(
              "Namespace "
                  + istioNamespace
                  + " annotation "
                  + BootstrapAnnotation.MESH_EXPANSION_CONFIGMAP.key(),
              "names ConfigMap " + istioNamespace + "/" + name + ", which does not exist"));
    }
    return IstioConfig.parseProxyConfig(
        data(configMap, "PROXY_CONFIG"),
        "ConfigMap " + istioNamespace + "/" + name + " key PROXY_CONFIG");
  }

  /** {@code istio-ca-root-cert} of each workload namespace named, where it is there. */
  private Map<String, String> namespaceRootCertificates() {
    Map<String, String> certificates = new java.util.TreeMap<>();
    for (String namespace : new TreeSet<>(workloadNamespaces)) {
      ConfigMap root = configMap(namespace, "istio-ca-root-cert");
      String pem = root == null ? null : data(root, "root-cert.pem");
      if (pem != null && !pem.isBlank()) {
        certificates.put(namespace, pem);
      }
    }
    return certificates;
  }

  // --- ingress (the systemd style's hosts file) ---------------------------------------------

  /**
   * The address {@code istioctl x workload entry configure} writes into {@code hosts}: the {@code
   * --ingressIP} given when it is an IP, else the ingress Service's first load-balancer IP, else
   * its first {@code spec.externalIPs}; where the load balancer has only a host name, that name
   * with the IPs it resolves to now (an addition: istioctl finds no IP there).
   */
  private Optional<GatewayAddress> ingress() {
    if (ingressIp.isPresent() && Names.isIp(ingressIp.get())) {
      return Optional.of(GatewayAddress.of(ingressIp.get()));
    }
    String[] parts = ingressService.split("\\.");
    String name = parts[0];
    String namespace = parts.length == 2 ? parts[1] : istioNamespace;
    Service service = service(namespace, name);
    if (service == null) {
      LOG.debug("no ingress Service {}/{}: empty hosts file", namespace, name);
      return Optional.empty();
    }
    List<LoadBalancerIngress> ingress = loadBalancerIngress(service);
    if (!ingress.isEmpty()) {
      LoadBalancerIngress first = ingress.get(0);
      if (first.getIp() != null && Names.isIp(first.getIp())) {
        return Optional.of(GatewayAddress.of(first.getIp()));
      }
      String hostname = first.getHostname();
      if (hostname != null && Names.isHostname(hostname) && !Names.isIp(hostname)) {
        return Optional.of(GatewayAddress.resolved(hostname, resolve(hostname)));
      }
      return Optional.empty();
    }
    List<String> external =
        service.getSpec() == null || service.getSpec().getExternalIPs() == null
            ? List.of()
            : service.getSpec().getExternalIPs();
    return external.isEmpty() || !Names.isIp(external.get(0))
        ? Optional.empty()
        : Optional.of(GatewayAddress.of(external.get(0)));
  }

  /** The IPs {@code hostname} resolves to from here, or none. */
  private static List<String> resolve(String hostname) {
    try {
      List<String> ips = new ArrayList<>();
      for (java.net.InetAddress address : java.net.InetAddress.getAllByName(hostname)) {
        ips.add(address.getHostAddress());
      }
      return ips;
    } catch (java.net.UnknownHostException | SecurityException e) {
      LOG.debug("gateway host name {} does not resolve: empty hosts file", hostname);
      return List.of();
    }
  }

  private static List<LoadBalancerIngress> loadBalancerIngress(Service service) {
    return service.getStatus() == null
            || service.getStatus().getLoadBalancer() == null
            || service.getStatus().getLoadBalancer().getIngress() == null
        ? List.of()
        : service.getStatus().getLoadBalancer().getIngress();
  }

  // --- gateway -----------------------------------------------------------------------------

  private Optional<GatewayAddress> gateway(
      Map<String, Object> meshNetworks, InstallValues values, List<Problem> problems) {
    Optional<Map<?, ?>> networkGateway = networkGateway(meshNetworks, values);
    if (networkGateway.isPresent()) {
      Object address = networkGateway.get().get("address");
      if (address != null) {
        String text = String.valueOf(address);
        if (!Names.isAddress(text)) {
          problems.add(
              Problem.of(
                  "ConfigMap " + istioNamespace + "/istio key meshNetworks gateways[].address",
                  "'" + Names.printable(text) + "' is neither an IP nor a host name"));
          return Optional.empty();
        }
        return Optional.of(GatewayAddress.of(text));
      }
      Object registryName = networkGateway.get().get("registryServiceName");
      if (registryName != null) {
        String[] parts = String.valueOf(registryName).split("\\.");
        String namespace = parts.length > 1 ? parts[1] : istioNamespace;
        Service service = service(namespace, parts[0]);
        if (service == null) {
          problems.add(
              Problem.of(
                  "ConfigMap "
                      + istioNamespace
                      + "/istio key meshNetworks gateways[].registryServiceName",
                  "names Service " + namespace + "/" + parts[0] + ", which does not exist"));
          return Optional.empty();
        }
        return gatewayOf(service, problems);
      }
    }
    for (String name : List.of(EASTWEST_GATEWAY, INGRESS_GATEWAY)) {
      Service service = service(istioNamespace, name);
      if (service != null) {
        return gatewayOf(service, problems);
      }
    }
    problems.add(
        Problem.of(
            "gateway",
            "none found: meshNetworks names no gateway for this cluster's network and there is no"
                + " Service "
                + istioNamespace
                + "/"
                + EASTWEST_GATEWAY
                + " or "
                + istioNamespace
                + "/"
                + INGRESS_GATEWAY
                + "; VMs reach istiod through one: install an east-west gateway that exposes"
                + " 15012 and 15443 (Istio's samples/multicluster/gen-eastwest-gateway.sh)"));
    return Optional.empty();
  }

  /**
   * The first gateway of the cluster's network in {@code meshNetworks}: the network is {@code
   * global.network}, else the one whose endpoints come from this cluster's registry.
   */
  private static Optional<Map<?, ?>> networkGateway(
      Map<String, Object> meshNetworks, InstallValues values) {
    if (!(meshNetworks.get("networks") instanceof Map<?, ?> networks) || networks.isEmpty()) {
      return Optional.empty();
    }
    Object network = values.network().map(n -> (Object) networks.get(n)).orElse(null);
    if (network == null) {
      for (Object candidate : networks.values()) {
        if (candidate instanceof Map<?, ?> map
            && map.get("endpoints") instanceof List<?> endpoints
            && endpoints.stream()
                .anyMatch(
                    e ->
                        e instanceof Map<?, ?> endpoint
                            && values
                                .clusterName()
                                .orElse("Kubernetes")
                                .equals(endpoint.get("fromRegistry")))) {
          network = candidate;
          break;
        }
      }
    }
    if (network instanceof Map<?, ?> chosen
        && chosen.get("gateways") instanceof List<?> gateways
        && !gateways.isEmpty()
        && gateways.get(0) instanceof Map<?, ?> first) {
      return Optional.of(first);
    }
    return Optional.empty();
  }

  private Service service(String namespace, String name) {
    return cluster.call(
        "get",
        "",
        "services",
        namespace,
        name,
        () -> cluster.client().services().inNamespace(namespace).withName(name).get());
  }

  private static Optional<GatewayAddress> gatewayOf(Service service, List<Problem> problems) {
    String object =
        "Service " + service.getMetadata().getNamespace() + "/" + service.getMetadata().getName();
    Set<Integer> ports =
        service.getSpec() == null || service.getSpec().getPorts() == null
            ? Set.of()
            : service.getSpec().getPorts().stream()
                .map(ServicePort::getPort)
                .filter(Objects::nonNull)
                .collect(Collectors.toSet());
    List<Integer> missing =
        GATEWAY_PORTS.stream().filter(port -> !ports.contains(port)).collect(Collectors.toList());
    if (!missing.isEmpty()) {
      problems.add(
          Problem.of(
              object + " spec.ports",
              "lacks "
                  + missing
                  + "; VMs need 15012 (istiod XDS and CA, name tcp-istiod) and 15443 (mTLS, name"
                  + " tls): expose them on the gateway"));
    }
    List<LoadBalancerIngress> ingress = loadBalancerIngress(service);
    Optional<String> address =
        ingress.stream()
            .map(LoadBalancerIngress::getHostname)
            .filter(h -> h != null && !h.isBlank())
            .findFirst()
            .or(
                () ->
                    ingress.stream()
                        .map(LoadBalancerIngress::getIp)
                        .filter(ip -> ip != null && !ip.isBlank())
                        .findFirst());
    if (address.isEmpty()) {
      problems.add(
          Problem.of(
              object + " status.loadBalancer.ingress",
              "has no address yet; wait until the load balancer is provisioned (kubectl -n "
                  + service.getMetadata().getNamespace()
                  + " get service "
                  + service.getMetadata().getName()
                  + " shows an EXTERNAL-IP) and run again"));
      return Optional.empty();
    }
    if (!Names.isAddress(address.get())) {
      problems.add(
          Problem.of(
              object + " status.loadBalancer.ingress",
              "'" + Names.printable(address.get()) + "' is neither an IP nor a host name"));
      return Optional.empty();
    }
    return Optional.of(GatewayAddress.of(address.get()));
  }

  /** Chooses the Istio installation to read, and the options of istioctl's VM flow. */
  public static final class Builder {
    private final KubernetesCluster cluster;
    private String istioNamespace = "istio-system";
    private Optional<String> revision = Optional.empty();
    private Optional<String> ingressIp = Optional.empty();
    private String ingressService = EASTWEST_GATEWAY;
    private boolean gatewayRequired = true;
    private final Set<String> workloadNamespaces = new TreeSet<>();

    private Builder(KubernetesCluster cluster) {
      this.cluster = cluster;
    }

    /**
     * The namespace Istio is installed in ({@code -i/--istioNamespace}; default {@code
     * istio-system}).
     */
    public Builder istioNamespace(String namespace) {
      List<Problem> problems = new ArrayList<>();
      Names.checkNamespace("istioNamespace", namespace, problems);
      InvalidInputException.throwIfAny(null, "mesh discovery", problems);
      this.istioNamespace = namespace;
      return this;
    }

    /**
     * The control-plane revision to read ({@code -r/--revision}: {@code istio-<rev>} and {@code
     * istio-sidecar-injector-<rev>} ConfigMaps, {@code istiod-<rev>}); {@code default}, as in
     * istioctl, is the installation without a revision.
     */
    public Builder revision(String revision) {
      List<Problem> problems = new ArrayList<>();
      Names.checkObjectName("revision", revision, problems);
      InvalidInputException.throwIfAny(null, "mesh discovery", problems);
      this.revision = "default".equals(revision) ? Optional.empty() : Optional.of(revision);
      return this;
    }

    /**
     * {@code --ingressIP}: the IP of the gateway VMs reach istiod through, written into the systemd
     * style's {@code hosts}; a value that is not an IP is ignored, as istioctl does (the ingress
     * Service is asked instead).
     */
    public Builder ingressIp(String ip) {
      List<Problem> problems = new ArrayList<>();
      if (ip.isEmpty() || ip.indexOf('\n') >= 0 || ip.indexOf('\0') >= 0 || ip.length() > 256) {
        problems.add(Problem.of("ingressIP", "is empty, too long or has control characters"));
      }
      InvalidInputException.throwIfAny(null, "mesh discovery", problems);
      this.ingressIp = Optional.of(ip);
      return this;
    }

    /**
     * {@code --ingressService}: the gateway Service, {@code NAME} (in the Istio namespace) or
     * {@code NAME.NAMESPACE}, whose address goes into the systemd style's {@code hosts} (default
     * {@code istio-eastwestgateway}).
     */
    public Builder ingressService(String service) {
      List<Problem> problems = new ArrayList<>();
      String[] parts = service.split("\\.", -1);
      if (parts.length > 2) {
        problems.add(
            Problem.of(
                "ingressService", "'" + Names.printable(service) + "' is not NAME[.NAMESPACE]"));
      } else {
        Names.checkObjectName("ingressService", parts[0], problems);
        if (parts.length == 2) {
          Names.checkNamespace("ingressService namespace", parts[1], problems);
        }
      }
      InvalidInputException.throwIfAny(null, "mesh discovery", problems);
      this.ingressService = service;
      return this;
    }

    /**
     * Whether a gateway the container style can use (ports 15012 and 15443, a load-balancer
     * address) must exist: true by default. The systemd style, like istioctl, needs none (its
     * {@code hosts} is then empty), so it can say false; the snapshot then has no gateway.
     */
    public Builder gatewayRequired(boolean required) {
      this.gatewayRequired = required;
      return this;
    }

    /**
     * Namespaces whose own {@code istio-ca-root-cert} the bundles of their workloads take (as
     * istioctl reads it from the WorkloadGroup's namespace); others get the Istio namespace's.
     */
    public Builder workloadNamespaces(java.util.Collection<String> namespaces) {
      List<Problem> problems = new ArrayList<>();
      for (String namespace : namespaces) {
        Names.checkNamespace("workload namespace", namespace, problems);
      }
      InvalidInputException.throwIfAny(null, "mesh discovery", problems);
      this.workloadNamespaces.addAll(namespaces);
      return this;
    }

    /** The discovery. */
    public KubernetesMeshDiscovery build() {
      return new KubernetesMeshDiscovery(this);
    }
  }
}
