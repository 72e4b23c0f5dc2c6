package dev.vmonboard.examples.cli;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Registrar;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.SystemdBundleFactory;
import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.WorkloadGroupFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * The options of {@code istioctl x workload entry configure}, with istioctl's names, on {@code
 * sidecar-bootstrap}. Each maps to the SDK: the revision, the Istio namespace and the ingress to
 * {@link KubernetesMeshDiscovery.Builder}, the cluster ID, auto-registration, DNS capture and the
 * VM's IP to {@link SystemdBundleFactory.Builder}, the token duration to the pipeline's token
 * lifetime, the file to {@link WorkloadGroupFiles}.
 */
final class IstioctlOptions {

  /** Options that only shape the systemd style's files. */
  private static final List<String> SYSTEMD_ONLY =
      List.of(
          "--clusterID",
          "--autoregister",
          "--internalIP",
          "--externalIP",
          "--ingressIP",
          "--ingressService",
          "--capture-dns");

  @Option(
      names = {"-r", "--revision"},
      paramLabel = "REV",
      description =
          "Control-plane revision: istio-REV and istio-sidecar-injector-REV ConfigMaps,"
              + " istiod-REV (default: none).")
  String revision;

  @Option(
      names = {"-i", "--istioNamespace"},
      paramLabel = "NS",
      description = "Namespace Istio is installed in (default istio-system).")
  String istioNamespace;

  @Option(
      names = "--clusterID",
      paramLabel = "ID",
      description =
          "Systemd style: the cluster ID (default: global.multiCluster.clusterName of the install"
              + " values, else empty).")
  String clusterId;

  @Option(
      names = "--autoregister",
      description =
          "Systemd style: istiod creates the WorkloadEntry when the proxy connects"
              + " (ISTIO_META_AUTO_REGISTER_GROUP).")
  boolean autoRegister;

  @Option(
      names = "--internalIP",
      paramLabel = "IP",
      description = "Systemd style: internal IP of the VM (ISTIO_SVC_IP).")
  String internalIp;

  @Option(
      names = "--externalIP",
      paramLabel = "IP",
      description =
          "Systemd style: external IP of the VM (ISTIO_SVC_IP, probes rewritten from localhost).")
  String externalIp;

  @Option(
      names = "--ingressIP",
      paramLabel = "IP",
      description = "Systemd style: IP of the gateway to istiod, written into hosts.")
  String ingressIp;

  @Option(
      names = "--ingressService",
      paramLabel = "NAME[.NS]",
      description =
          "Systemd style: gateway Service whose address goes into hosts (default"
              + " istio-eastwestgateway, in the Istio namespace).")
  String ingressService;

  @Option(
      names = "--capture-dns",
      paramLabel = "BOOL",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Systemd style: the agent captures DNS (ISTIO_META_DNS_CAPTURE); default true,"
              + " --capture-dns=false turns it off.")
  Boolean captureDns;

  @Option(
      names = "--tokenDuration",
      paramLabel = "SECONDS",
      converter = StrictNumbers.class,
      description = "Token lifetime in seconds (istioctl's spelling of --duration; at least 600).")
  Integer tokenDuration;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "FILE",
      description =
          "A WorkloadGroup manifest to bootstrap, read from the file (it need not exist on the"
              + " cluster); implies --style systemd.")
  Path file;

  /** The group read from {@link #file}, once {@link #check} ran. */
  private Workload fileGroup;

  /**
   * Refuses unknown or conflicting combinations, in one line each.
   *
   * @param parsed what picocli parsed, to tell given options from defaults
   * @param hasNamesOrAll whether names or {@code --all} were given
   */
  void check(ParseResult parsed, boolean hasNamesOrAll, boolean offboard) {
    if (internalIp != null && externalIp != null) {
      throw new UsageError("the flags --internalIP and --externalIP are mutually exclusive");
    }
    if (tokenDuration != null && parsed.hasMatchedOption("--duration")) {
      throw new UsageError(
          "--tokenDuration and --duration both set the token lifetime: choose one");
    }
    if (tokenDuration != null && tokenDuration < 600) {
      throw new UsageError(
          "--tokenDuration " + tokenDuration + " is below the 600 seconds Kubernetes accepts");
    }
    if (ingressIp != null && !isIp(ingressIp)) {
      throw new UsageError(
          "--ingressIP " + SidecarBootstrap.oneLine(ingressIp) + " is not an IP address");
    }
    Object style =
        parsed.hasMatchedOption("--style") ? parsed.matchedOption("--style").getValue() : null;
    boolean explicitContainer = style != null && "container".equals(style.toString());
    if (explicitContainer) {
      for (String option : SYSTEMD_ONLY) {
        if (parsed.hasMatchedOption(option)) {
          throw new UsageError(
              option
                  + " shapes the files of istioctl's VM flow: it needs --style systemd, not"
                  + " container");
        }
      }
      if (file != null) {
        throw new UsageError(
            "-f/--file reads a WorkloadGroup, which only the systemd style bootstraps: drop"
                + " --style container");
      }
    }
    if (file != null && hasNamesOrAll) {
      throw new UsageError(
          "-f/--file names the WorkloadGroup to bootstrap: drop the names and --all, or -f");
    }
    if (file != null && offboard) {
      throw new UsageError(
          "--offboard works on registered workloads; a WorkloadGroup from -f/--file is not"
              + " registered: drop -f");
    }
    try {
      systemdFactory();
    } catch (InvalidInputException e) {
      throw new UsageError(SidecarBootstrap.oneLine(e.getMessage()), e);
    }
  }

  private static boolean isIp(String text) {
    try {
      return !GatewayAddress.of(text).isHostname();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Whether any option makes the run use the systemd style without {@code --style}. */
  boolean impliesSystemd(ParseResult parsed) {
    if (parsed.hasMatchedOption("--style")) {
      return false;
    }
    if (file != null) {
      return true;
    }
    for (String option : SYSTEMD_ONLY) {
      if (parsed.hasMatchedOption(option)) {
        return true;
      }
    }
    return false;
  }

  /** The group of {@code -f}, read once; its namespace defaults to {@code namespace}. */
  Workload fileGroup(String namespace) {
    if (fileGroup == null) {
      try {
        fileGroup = WorkloadGroupFiles.read(file, namespace);
      } catch (InvalidInputException e) {
        throw new UsageError(
            "-f/--file " + file + ": " + SidecarBootstrap.oneLine(e.getMessage()), e);
      }
    }
    return fileGroup;
  }

  /** The systemd bundle factory with these options. */
  SystemdBundleFactory systemdFactory() {
    SystemdBundleFactory.Builder factory = SystemdBundleFactory.builder();
    if (captureDns != null) {
      factory.dnsCapture(captureDns);
    }
    factory.autoRegister(autoRegister);
    if (clusterId != null) {
      factory.clusterId(clusterId);
    }
    if (internalIp != null) {
      factory.internalIp(internalIp);
    }
    if (externalIp != null) {
      factory.externalIp(externalIp);
    }
    return factory.build();
  }

  /**
   * The mesh discovery: revision, Istio namespace, ingress; for the systemd style the gateway of
   * the container style is not required, and the root certificate comes from {@code namespaces}.
   */
  KubernetesMeshDiscovery meshSource(
      KubernetesCluster cluster, boolean systemd, Collection<String> namespaces) {
    KubernetesMeshDiscovery.Builder discovery = KubernetesMeshDiscovery.builder(cluster);
    try {
      applyDiscovery(discovery);
      if (systemd) {
        discovery.gatewayRequired(false).workloadNamespaces(namespaces);
      }
    } catch (InvalidInputException e) {
      throw new UsageError(SidecarBootstrap.oneLine(e.getMessage()), e);
    }
    return discovery.build();
  }

  /** istioctl's token lifetime when no option sets one: one hour. */
  static final Duration ISTIOCTL_TOKEN_DURATION = Duration.ofSeconds(3600);

  /**
   * The token lifetime: {@code --tokenDuration} seconds when given, else {@code --duration} when
   * given, else istioctl's hour for the systemd style and {@code duration} (the container style's
   * default) otherwise.
   */
  Duration tokenLifetime(ParseResult parsed, Duration duration, boolean systemd) {
    if (tokenDuration != null) {
      return Duration.ofSeconds(tokenDuration);
    }
    return systemd && !parsed.hasMatchedOption("--duration") ? ISTIOCTL_TOKEN_DURATION : duration;
  }

  /**
   * {@code registrar}, answering the {@code -f} group itself (it is not on the cluster, and nothing
   * is recorded on it), everything else from {@code registrar}.
   */
  Registrar registrar(Registrar registrar, String namespace) {
    if (file == null) {
      return registrar;
    }
    Workload group = fileGroup(namespace);
    return new FileGroupRegistrar(registrar, group);
  }

  private void applyDiscovery(KubernetesMeshDiscovery.Builder discovery) {
    if (revision != null) {
      discovery.revision(revision);
    }
    if (istioNamespace != null) {
      discovery.istioNamespace(istioNamespace);
    }
    if (ingressIp != null) {
      discovery.ingressIp(ingressIp);
    }
    if (ingressService != null) {
      discovery.ingressService(ingressService);
    }
  }

  /** Serves one WorkloadGroup read from a file; the rest from the cluster's registrar. */
  private static final class FileGroupRegistrar implements Registrar {
    private final Registrar cluster;
    private final Workload group;

    FileGroupRegistrar(Registrar cluster, Workload group) {
      this.cluster = cluster;
      this.group = group;
    }

    @Override
    public Workload register(Registration registration) {
      return cluster.register(registration);
    }

    @Override
    public Workload resolve(WorkloadRef ref) {
      return ref.equals(group.ref()) ? group : cluster.resolve(ref);
    }

    @Override
    public List<Workload> list(WorkloadSelector selector) {
      return new ArrayList<>(cluster.list(selector));
    }

    @Override
    public boolean deregister(WorkloadRef ref) {
      return cluster.deregister(ref);
    }

    @Override
    public void recordBootstrap(WorkloadRef ref, BootstrapRecord record) {
      if (!ref.equals(group.ref())) {
        cluster.recordBootstrap(ref, record);
      }
    }
  }
}
