package dev.vmonboard.examples.cli;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingException;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TargetDefaults;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.ArchiveTransport;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.bundle.LocalDirectoryTransport;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.examples.support.Quiet;
import dev.vmonboard.examples.support.Texts;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.HostKeyPolicy;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshIdentity;
import dev.vmonboard.ssh.SshTransport;
import dev.vmonboard.ssh.SystemdProxyLauncher;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sidecar-bootstrap}: the command line of {@code tctl x sidecar-bootstrap}, over the SDK.
 *
 * <p>Bootstraps the Istio sidecar of VMs registered as WorkloadEntries: one token per VM from the
 * TokenRequest API, the bundle copied over SSH (or written to a directory or a {@code .tgz}), the
 * proxy started when asked. Also offboards, plans without changing anything, and lists the
 * annotations it reads. Exit code 0 when every VM succeeded, 1 when one failed, 2 when the command
 * line or what it names is wrong (nothing was changed).
 *
 * <pre>
 * bin/sidecar-bootstrap --help      (the distribution: onboarding-examples/distribution)
 * </pre>
 */
@Command(
    name = "sidecar-bootstrap",
    mixinStandardHelpOptions = true,
    versionProvider = BuildVersion.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    customSynopsis = SidecarBootstrap.SYNOPSIS,
    description = SidecarBootstrap.DESCRIPTION)
public final class SidecarBootstrap implements Callable<Integer> {

  static final String SYNOPSIS =
      "sidecar-bootstrap (NAME[.NAMESPACE]... | -a) [-n NS]%n"
          + "           [--context NAME | --kubeconfig FILE | --embedded-cluster [FILE...]]%n"
          + "           [--start-istio-proxy | --offboard]%n"
          + "           [--dry-run | -d DIR | --output-file FILE.tgz]%n"
          + "           [-k FILE]... [-u USER] [--ssh-password] [OPTIONS]%n"
          + "       sidecar-bootstrap --docs%n";

  static final String DESCRIPTION =
      "Bootstraps the Istio sidecar of VMs registered as WorkloadEntries: issues one short-lived"
          + " token per VM, copies the bundle to the VM over SSH (or to a directory or a .tgz),"
          + " and starts the proxy when asked.%n"
          + "Exit code: 0 every VM succeeded, 1 a VM failed, 2 the command line or what it names"
          + " is wrong (nothing was changed).";

  @Parameters(
      paramLabel = "NAME[.NAMESPACE]",
      arity = "0..*",
      description = "WorkloadEntries to bootstrap (the namespace defaults to --namespace).")
  List<String> names = new ArrayList<>();

  @ArgGroup(validate = false, heading = "%nWhich VMs and which cluster:%n", order = 1)
  Selection selection = new Selection();

  @ArgGroup(validate = false, heading = "%nWhat to do:%n", order = 2)
  Action action = new Action();

  @ArgGroup(validate = false, heading = "%nInstead of copying to the VMs:%n", order = 3)
  Output output = new Output();

  @ArgGroup(validate = false, heading = "%nSSH:%n", order = 4)
  Ssh ssh = new Ssh();

  @ArgGroup(validate = false, heading = "%nRun:%n", order = 5)
  Run run = new Run();

  @ArgGroup(
      validate = false,
      heading = "%nistioctl x workload entry configure (same names; see README):%n",
      order = 6)
  IstioctlOptions istioctl = new IstioctlOptions();

  @Spec CommandLine.Model.CommandSpec spec;

  /** Options that choose the VMs and the cluster. */
  static final class Selection {
    @Option(
        names = {"-a", "--all"},
        description = "Every WorkloadEntry of the namespace.")
    boolean all;

    @Option(
        names = {"-n", "--namespace"},
        paramLabel = "NS",
        description =
            "Namespace of the WorkloadEntries (default: the kube context's, else default).")
    String namespace;

    @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubeconfig file to use.")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "Kube context to use.")
    String context;

    @Option(
        names = "--embedded-cluster",
        paramLabel = "FILE",
        arity = "0..*",
        description = {
          "Use a Kubernetes API server in this process instead of a real cluster. Without files:"
              + " a built-in Istio installation with two sample VMs in namespace "
              + EmbeddedClusters.SAMPLE_NAMESPACE
              + ". With files: exactly the objects in those manifests (e.g. exported with kubectl"
              + " get -o yaml), nothing built in but Istio's CRDs. Put names before it."
        })
    List<Path> embeddedCluster;
  }

  /** Options that choose what happens. */
  static final class Action {
    @Option(
        names = "--start-istio-proxy",
        description = "Start the proxy on the VM after copying, and wait until it is ready.")
    boolean startIstioProxy;

    @Option(
        names = "--offboard",
        description =
            "Stop and remove the proxy, delete the bundle from the VM, deregister what vmonboard"
                + " registered.")
    boolean offboard;

    @Option(
        names = "--dry-run",
        description = "Print what would be done (tokens redacted); change nothing.")
    boolean dryRun;

    @Option(
        names = "--style",
        paramLabel = "STYLE",
        description =
            "container (docker run of proxyv2, the default) or systemd (the istio-sidecar"
                + " package).")
    Style style = Style.container;

    @Option(
        names = "--sudo",
        description = "Run the container runtime or systemd commands through sudo -n.")
    boolean sudo;

    @Option(
        names = "--duration",
        paramLabel = "DURATION",
        converter = Durations.class,
        description =
            "Lifetime of the tokens (default 24h, 1h in the systemd style; at least 10m).")
    Duration duration = Duration.ofHours(24);

    @Option(
        names = "--docs",
        description = "Print the annotations this command reads, with their defaults, and exit.")
    boolean docs;
  }

  /** Where bundles go instead of a VM. */
  static final class Output {
    @Option(
        names = {"-d", "--output-dir", "--local-dir"},
        paramLabel = "DIR",
        description = "Write each VM's bundle to DIR/NAME.NAMESPACE/ instead of copying it.")
    Path outputDir;

    @Option(
        names = "--output-file",
        paramLabel = "FILE.tgz",
        description = "Write the bundles into one .tgz (NAME.NAMESPACE/ each) instead of copying.")
    Path outputFile;
  }

  /** How to reach the VMs. */
  static final class Ssh {
    @Option(
        names = {"-k", "--ssh-key"},
        paramLabel = "FILE",
        description =
            "Private key to log in with (repeatable; default: ~/.ssh/id_ed25519, id_ecdsa,"
                + " id_rsa that exist). Asks for the passphrase of an encrypted key.")
    List<Path> keys = new ArrayList<>();

    @Option(
        names = {"-u", "--ssh-user"},
        paramLabel = "USER",
        description = "User to log in as when no ssh-user annotation says (default: yours).")
    String user;

    @Option(
        names = "--ssh-port",
        paramLabel = "PORT",
        converter = StrictNumbers.class,
        description = "Port when no ssh-port annotation says (default 22).")
    Integer port;

    @Option(
        names = "--ssh-password",
        description = "Ask for an SSH password (at the prompt: never give it on the command line).")
    boolean password;

    @Option(
        names = "--known-hosts",
        paramLabel = "FILE",
        description = "known_hosts file to check host keys against (default ~/.ssh/known_hosts).")
    Path knownHosts;

    @Option(
        names = "--trust-on-first-use",
        description =
            "Accept the key of a host not yet in the known_hosts file and record it; a changed"
                + " key is still refused.")
    boolean trustOnFirstUse;

    @Option(
        names = "--ignore-host-keys",
        description = "INSECURE: accept any host key (throwaway test VMs only).")
    boolean ignoreHostKeys;

    @Option(
        names = "--ssh-connect-timeout",
        paramLabel = "DURATION",
        converter = Durations.class,
        description = "Time to connect and log in (default 10s).")
    Duration connectTimeout = Duration.ofSeconds(10);
  }

  /** How the run goes. */
  static final class Run {
    @Option(
        names = "--concurrency",
        paramLabel = "N",
        converter = StrictNumbers.class,
        description = "VMs handled at once (default 8).")
    int concurrency = 8;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = Durations.class,
        description =
            "Time allowed on each VM for copying the bundle, for starting the proxy until it is"
                + " ready (and for restoring the previous one when it is not), and for removing"
                + " (default 2m each).")
    Duration timeout;

    @Option(
        names = {"-v", "--verbose"},
        description = "Print every stage as it ends, debug logs, and stack traces of errors.")
    boolean verbose;
  }

  /** The bundle and launch style. */
  enum Style {
    container,
    systemd
  }

  /** The stages that work on the VM, which {@code --timeout} limits. */
  private static final List<Stage> REMOTE_STAGES =
      List.of(
          Stage.DELIVER,
          Stage.LAUNCH,
          Stage.ROLLBACK,
          Stage.DELIVER_TOKEN,
          Stage.STOP_PROXY,
          Stage.REMOVE_BUNDLE);

  private final PrintStream out;
  private final PrintStream err;
  private final Terminal terminal;
  private final Path home;

  SidecarBootstrap(PrintStream out, PrintStream err, Terminal terminal, Path home) {
    this.out = out;
    this.err = err;
    this.terminal = terminal;
    this.home = home;
  }

  /** Runs the command and exits with its exit code. */
  public static void main(String[] args) {
    Quiet.javaUtilLogging();
    if (Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose")) {
      System.setProperty("org.slf4j.simpleLogger.log.dev.vmonboard", "debug");
    }
    int code = run(args, System.out, System.err, Terminal.system(System.in, System.err));
    System.out.flush();
    System.exit(code);
  }

  /** Runs the command with {@code args}, printing to {@code out} and {@code err}. */
  public static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
    return run(args, out, err, Terminal.system(in, err));
  }

  static int run(String[] args, PrintStream out, PrintStream err, Terminal terminal) {
    return run(args, out, err, terminal, Path.of(System.getProperty("user.home")));
  }

  /**
   * Runs the command; {@code home} is where {@code ~/.ssh} (default keys, known_hosts) is looked
   * for.
   */
  static int run(String[] args, PrintStream out, PrintStream err, Terminal terminal, Path home) {
    for (String arg : args) {
      if (arg.startsWith("--ssh-password=")) {
        err.println(
            "sidecar-bootstrap: error: --ssh-password takes no value: the password is asked for"
                + " at the prompt (a password on the command line ends up in shell history and"
                + " process lists)");
        return 2;
      }
    }
    SidecarBootstrap command = new SidecarBootstrap(out, err, terminal, home);
    CommandLine line = new CommandLine(command);
    line.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    line.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    line.setParameterExceptionHandler(
        (problem, arguments) -> {
          err.println(
              "sidecar-bootstrap: error: "
                  + oneLine(problem.getMessage())
                  + " (see sidecar-bootstrap --help)");
          return 2;
        });
    line.setExecutionExceptionHandler(
        (problem, commandLine, parseResult) -> {
          boolean usage = problem instanceof UsageError;
          err.println(
              "sidecar-bootstrap: error: "
                  + oneLine(
                      problem.getMessage() == null ? problem.toString() : problem.getMessage())
                  + (command.run.verbose || usage ? "" : " (--verbose shows the stack trace)"));
          if (command.run.verbose) {
            problem.printStackTrace(err);
          }
          return usage ? 2 : 1;
        });
    return line.execute(args);
  }

  @Override
  public Integer call() {
    checkOptions();
    if (action.docs) {
      out.print(docs());
      return 0;
    }
    List<Path> keys = keys();
    try (Clusters clusters = connect()) {
      KubernetesCluster cluster = clusters.cluster;
      String namespace = namespace(cluster);
      List<WorkloadRef> refs = workloads(cluster, namespace);
      boolean toVms = output.outputDir == null && output.outputFile == null;
      SshConnector connector = toVms ? connector(keys) : null;
      OnboardingPipeline pipeline = pipeline(cluster, connector, refs, namespace);
      err.println(header(cluster, refs, connector, keys));
      if (action.dryRun) {
        pipeline = pipeline.dryRun();
      }
      FleetResult fleet = action.offboard ? pipeline.offboardAll(refs) : pipeline.onboardAll(refs);
      report(fleet);
      return fleet.allSucceeded() ? 0 : 1;
    }
  }

  // --- the command line itself ------------------------------------------------------------------

  /** Refuses options that contradict each other, and files that cannot be read. */
  private void checkOptions() {
    if (action.docs) {
      if (!names.isEmpty() || usedOptionsOtherThanDocs()) {
        throw new UsageError("--docs prints the annotation catalogue and takes no other option");
      }
      return;
    }
    istioctl.check(
        spec.commandLine().getParseResult(), !names.isEmpty() || selection.all, action.offboard);
    if (istioctl.impliesSystemd(spec.commandLine().getParseResult())) {
      action.style = Style.systemd;
    }
    if (names.isEmpty() && !selection.all && istioctl.file == null) {
      throw new UsageError(
          "name the WorkloadEntries to bootstrap (NAME[.NAMESPACE]...) or pass --all");
    }
    if (!names.isEmpty() && selection.all) {
      throw new UsageError(
          "--all bootstraps every WorkloadEntry of the namespace: drop the names or --all");
    }
    if (selection.embeddedCluster != null
        && (selection.kubeconfig != null || selection.context != null)) {
      throw new UsageError(
          "--embedded-cluster replaces the real cluster: drop --kubeconfig and --context, or"
              + " --embedded-cluster");
    }
    if (selection.kubeconfig != null && !Files.isReadable(selection.kubeconfig)) {
      throw new UsageError(
          "--kubeconfig " + selection.kubeconfig + ": no such file, or it cannot be read");
    }
    boolean toDir = output.outputDir != null;
    boolean toFile = output.outputFile != null;
    if (toDir && toFile) {
      throw new UsageError("--output-dir and --output-file are two destinations: choose one");
    }
    String outputOption = toDir ? "--output-dir" : "--output-file";
    if ((toDir || toFile) && action.dryRun) {
      throw new UsageError(
          outputOption
              + " writes the bundles and --dry-run writes nothing: choose one (--dry-run alone"
              + " prints what would be written)");
    }
    if ((toDir || toFile) && action.startIstioProxy) {
      throw new UsageError(
          outputOption
              + " keeps the bundles on this machine, so there is no proxy to start: drop"
              + " --start-istio-proxy (the bundle's bin/start-istio-proxy.sh starts it on the VM)");
    }
    if ((toDir || toFile) && action.offboard) {
      throw new UsageError(
          "--offboard works on the VMs over SSH and cannot be combined with " + outputOption);
    }
    if (toDir || toFile) {
      List<String> sshOptions = sshOptionsGiven();
      if (!sshOptions.isEmpty()) {
        throw new UsageError(
            String.join(", ", sshOptions)
                + (sshOptions.size() > 1 ? " have" : " has")
                + " no effect with "
                + outputOption
                + ": nothing is copied over SSH");
      }
    }
    Path outputPath = toDir ? output.outputDir : output.outputFile;
    if (outputPath != null && Names.hasForbidden(outputPath.toString())) {
      throw new UsageError(
          outputOption
              + " '"
              + Names.printable(outputPath.toString())
              + "' contains "
              + Names.describeForbidden(outputPath.toString())
              + ": name a path without control or format characters");
    }
    if (toFile) {
      String name = output.outputFile.getFileName().toString();
      if (!name.endsWith(".tgz") && !name.endsWith(".tar.gz")) {
        throw new UsageError("--output-file " + output.outputFile + " must end with .tgz");
      }
      OutputPaths.checkFile(output.outputFile);
    }
    if (toDir) {
      OutputPaths.checkDirectory(output.outputDir);
    }
    if (action.offboard && action.startIstioProxy) {
      throw new UsageError("--offboard stops the proxy; --start-istio-proxy starts it: choose one");
    }
    if (ssh.ignoreHostKeys && (ssh.trustOnFirstUse || ssh.knownHosts != null)) {
      throw new UsageError(
          "--ignore-host-keys checks no host key: drop it, or drop "
              + (ssh.trustOnFirstUse ? "--trust-on-first-use" : "--known-hosts"));
    }
    if (run.concurrency < 1) {
      throw new UsageError("--concurrency must be at least 1, not " + run.concurrency);
    }
    if (ssh.port != null && (ssh.port < 1 || ssh.port > 65535)) {
      throw new UsageError("--ssh-port " + ssh.port + " is not a port (1-65535)");
    }
    if (action.duration.compareTo(Duration.ofMinutes(10)) < 0) {
      throw new UsageError(
          "--duration "
              + Durations.format(action.duration)
              + " is below the 10m Kubernetes accepts");
    }
    for (Path key : ssh.keys) {
      checkPrivateKey(key);
    }
  }

  private boolean usedOptionsOtherThanDocs() {
    return selection.all
        || selection.namespace != null
        || selection.kubeconfig != null
        || selection.context != null
        || selection.embeddedCluster != null
        || action.startIstioProxy
        || action.offboard
        || action.dryRun
        || output.outputDir != null
        || output.outputFile != null
        || !sshOptionsGiven().isEmpty();
  }

  private List<String> sshOptionsGiven() {
    List<String> given = new ArrayList<>();
    if (!ssh.keys.isEmpty()) {
      given.add("--ssh-key");
    }
    if (ssh.user != null) {
      given.add("--ssh-user");
    }
    if (ssh.port != null) {
      given.add("--ssh-port");
    }
    if (ssh.password) {
      given.add("--ssh-password");
    }
    if (ssh.knownHosts != null) {
      given.add("--known-hosts");
    }
    if (ssh.trustOnFirstUse) {
      given.add("--trust-on-first-use");
    }
    if (ssh.ignoreHostKeys) {
      given.add("--ignore-host-keys");
    }
    return given;
  }

  private static void checkPrivateKey(Path key) {
    String text;
    try {
      text = Files.readString(key, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UsageError(
          "--ssh-key "
              + key
              + ": cannot read it ("
              + (Files.exists(key) ? "permission denied" : "no such file")
              + ")");
    }
    if (!text.contains("PRIVATE KEY-----")) {
      throw new UsageError(
          "--ssh-key "
              + key
              + " is not a private key in OpenSSH or PEM format"
              + (key.toString().endsWith(".pub") ? " (it looks like the public key)" : ""));
    }
  }

  /** The keys to offer: the ones given, else the user's default keys that exist. */
  private List<Path> keys() {
    if (!ssh.keys.isEmpty()) {
      return ssh.keys;
    }
    List<Path> defaults = new ArrayList<>();
    Path dotSsh = home.resolve(".ssh");
    for (String name : List.of("id_ed25519", "id_ecdsa", "id_rsa")) {
      if (Files.isReadable(dotSsh.resolve(name))) {
        defaults.add(dotSsh.resolve(name));
      }
    }
    return defaults;
  }

  static String docs() {
    StringBuilder text = new StringBuilder();
    text.append("Annotations sidecar-bootstrap reads on a WorkloadEntry (mesh-expansion-configmap:")
        .append(" on the Istio namespace):\n\n");
    text.append(BootstrapAnnotation.catalogue());
    return text.toString();
  }

  // --- cluster and workloads ---------------------------------------------------------------------

  /** The cluster and what to close at the end. */
  private static final class Clusters implements AutoCloseable {
    final KubernetesCluster cluster;
    private final AutoCloseable owner;

    Clusters(KubernetesCluster cluster, AutoCloseable owner) {
      this.cluster = cluster;
      this.owner = owner;
    }

    @Override
    public void close() {
      try {
        owner.close();
      } catch (Exception e) {
        // closing a client or an in-process server: nothing the user can act on
      }
    }
  }

  private Clusters connect() {
    if (selection.embeddedCluster != null) {
      EmbeddedIstioCluster embedded = EmbeddedClusters.start(selection.embeddedCluster);
      return new Clusters(embedded.cluster(), embedded);
    }
    Kubeconfigs.check(selection.kubeconfig, System.getenv(), home);
    KubernetesCluster cluster;
    try {
      if (selection.kubeconfig != null) {
        cluster = KubernetesCluster.fromKubeconfig(selection.kubeconfig, selection.context);
      } else if (selection.context != null) {
        cluster = KubernetesCluster.fromContext(selection.context);
      } else {
        cluster = KubernetesCluster.fromDefaultKubeconfig();
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new UsageError(e.getMessage(), e);
    }
    Clusters clusters = new Clusters(cluster, cluster);
    try {
      cluster.checkConnectivity();
    } catch (StageException e) {
      clusters.close();
      throw e;
    }
    return clusters;
  }

  private String namespace(KubernetesCluster cluster) {
    if (selection.namespace != null) {
      return selection.namespace;
    }
    String fromContext = cluster.client().getNamespace();
    return fromContext == null || fromContext.isBlank() ? "default" : fromContext;
  }

  /** The workloads to run, each checked to exist; refuses unknown namespaces and names. */
  private List<WorkloadRef> workloads(KubernetesCluster cluster, String namespace) {
    KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster);
    Set<WorkloadRef> refs = new LinkedHashSet<>();
    List<WorkloadRef> parsed = new ArrayList<>();
    Set<String> namespaces = new TreeSet<>();
    try {
      if (selection.all) {
        namespaces.add(WorkloadSelector.inNamespace(namespace).namespace().orElseThrow());
      }
      for (String name : names) {
        WorkloadRef ref = WorkloadRef.parse(name, namespace);
        parsed.add(ref);
        namespaces.add(ref.namespace());
      }
    } catch (OnboardingException e) {
      throw new UsageError(e.getMessage(), e);
    }
    for (String ns : namespaces) {
      cluster.checkConnectivity();
      if (cluster.client().namespaces().withName(ns).get() == null) {
        throw new UsageError(
            "namespace '" + ns + "' does not exist on " + cluster.description() + " (-n NS)");
      }
    }
    if (selection.all) {
      List<Workload> listed = registrar.list(WorkloadSelector.inNamespace(namespace));
      // Only the systemd style bootstraps WorkloadGroups; the container style takes the entries.
      listed.removeIf(
          workload ->
              action.style == Style.container && workload.kind() == Workload.Kind.WORKLOAD_GROUP);
      if (listed.isEmpty()) {
        throw new UsageError(
            "namespace '" + namespace + "' has no WorkloadEntries on " + cluster.description());
      }
      listed.forEach(workload -> refs.add(workload.ref()));
    }
    for (WorkloadRef ref : parsed) {
      try {
        registrar.resolve(ref);
      } catch (dev.vmonboard.core.NotFoundException e) {
        throw new UsageError(
            "WorkloadEntry "
                + ref
                + " not found on "
                + cluster.description()
                + " (kubectl get workloadentries -n "
                + ref.namespace()
                + ")",
            e);
      }
      refs.add(ref);
    }
    if (istioctl.file != null) {
      refs.add(istioctl.fileGroup(namespace).ref());
    }
    return new ArrayList<>(refs);
  }

  // --- SSH --------------------------------------------------------------------------------------

  private SshConnector connector(List<Path> keys) {
    if (keys.isEmpty() && !ssh.password && !action.dryRun) {
      throw new UsageError(
          "no SSH key: give one with -k FILE (none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa"
              + " exists), or --ssh-password");
    }
    SshConnector.Builder builder =
        SshConnector.builder().connectTimeout(ssh.connectTimeout).hostKeyPolicy(hostKeyPolicy());
    if (ssh.user != null) {
      builder.user(ssh.user);
    }
    if (ssh.port != null) {
      builder.port(ssh.port);
    }
    for (Path key : keys) {
      builder.identity(
          SshIdentity.fromFile(
              key, name -> askOnce("Passphrase for key " + name + ": ", "the passphrase")));
    }
    if (ssh.password) {
      if (action.dryRun) {
        builder.password((user, host) -> null);
      } else {
        char[] password = terminal.readSecret("SSH password: ");
        if (password == null) {
          throw new UsageError("--ssh-password: no password was given at the prompt");
        }
        builder.password((user, host) -> password.clone());
      }
    }
    if (keys.isEmpty() && !ssh.password) {
      builder.password((user, host) -> null);
    }
    return builder.build();
  }

  private char[] askOnce(String prompt, String what) {
    char[] secret = terminal.readSecret(prompt);
    if (secret == null) {
      throw new UsageError("no " + what + " was given at the prompt");
    }
    return secret;
  }

  private String hostKeyDescription() {
    if (ssh.ignoreHostKeys) {
      return "NOT CHECKED";
    }
    Path file = knownHostsFile();
    return (ssh.trustOnFirstUse ? "trust on first use, recorded in " : "checked against ") + file;
  }

  private Path knownHostsFile() {
    return ssh.knownHosts != null ? ssh.knownHosts : home.resolve(".ssh").resolve("known_hosts");
  }

  private HostKeyPolicy hostKeyPolicy() {
    if (ssh.ignoreHostKeys) {
      err.println(
          "sidecar-bootstrap: WARNING: --ignore-host-keys: host keys are not checked; anyone on"
              + " the network path can pose as the VMs and receive their tokens. Use"
              + " --known-hosts FILE or --trust-on-first-use instead.");
      return HostKeyPolicy.insecureAcceptAny();
    }
    Path file = knownHostsFile();
    if (ssh.trustOnFirstUse) {
      return HostKeyPolicy.trustOnFirstUse(file);
    }
    if (!action.dryRun && !Files.isReadable(file)) {
      throw new UsageError(
          "known_hosts file "
              + file
              + " cannot be read, so no host key can be checked: add the VMs' keys to it"
              + " (ssh-keyscan), or pass --known-hosts FILE or --trust-on-first-use");
    }
    return HostKeyPolicy.knownHosts(file);
  }

  // --- the pipeline -----------------------------------------------------------------------------

  private OnboardingPipeline pipeline(
      KubernetesCluster cluster, SshConnector connector, List<WorkloadRef> refs, String namespace) {
    int workloads = refs.size();
    Set<String> namespaces = new TreeSet<>();
    refs.forEach(ref -> namespaces.add(ref.namespace()));
    TargetDefaults.Builder defaults = TargetDefaults.builder();
    if (ssh.user != null) {
      defaults.user(ssh.user);
    }
    if (ssh.port != null) {
      defaults.port(ssh.port);
    }
    OnboardingPipeline.Builder builder =
        OnboardingPipeline.builder()
            .registrar(istioctl.registrar(KubernetesRegistrar.create(cluster), namespace))
            .tokenIssuer(ServiceAccountTokenIssuer.create(cluster))
            .meshSource(istioctl.meshSource(cluster, action.style == Style.systemd, namespaces))
            .bundleFactory(bundleFactory())
            .transport(transport(connector))
            .launcher(launcher(connector))
            .targetDefaults(defaults.build())
            .tokenLifetime(
                istioctl.tokenLifetime(
                    spec.commandLine().getParseResult(),
                    action.duration,
                    action.style == Style.systemd))
            .concurrency(run.concurrency)
            .listener(new FleetProgress(err, workloads, run.verbose || workloads == 1));
    if (run.timeout != null) {
      for (Stage stage : REMOTE_STAGES) {
        builder.stageTimeout(stage, run.timeout);
      }
    }
    return builder.build();
  }

  private BundleFactory bundleFactory() {
    return action.style == Style.systemd
        ? istioctl.systemdFactory()
        : ContainerBundleFactory.create();
  }

  private Transport transport(SshConnector connector) {
    if (output.outputDir != null) {
      return LocalDirectoryTransport.perWorkload(output.outputDir);
    }
    if (output.outputFile != null) {
      return ArchiveTransport.perWorkload(output.outputFile);
    }
    return SshTransport.using(connector);
  }

  private ProxyLauncher launcher(SshConnector connector) {
    if (connector == null || !(action.startIstioProxy || action.offboard)) {
      return ProxyLauncher.none();
    }
    if (action.style == Style.systemd) {
      SystemdProxyLauncher.Builder launcher = SystemdProxyLauncher.builder(connector);
      if (run.timeout != null) {
        launcher.readinessTimeout(run.timeout);
      }
      return action.sudo ? launcher.sudo().build() : launcher.build();
    }
    ContainerProxyLauncher.Builder launcher = ContainerProxyLauncher.builder(connector);
    if (run.timeout != null) {
      launcher.readinessTimeout(run.timeout);
    }
    return action.sudo ? launcher.sudo().build() : launcher.build();
  }

  // --- output -----------------------------------------------------------------------------------

  private String header(
      KubernetesCluster cluster, List<WorkloadRef> refs, SshConnector connector, List<Path> keys) {
    String what =
        action.dryRun
            ? "planning (dry run, nothing is changed) for"
            : action.offboard ? "offboarding" : "bootstrapping";
    String where =
        output.outputDir != null
            ? "bundles to " + output.outputDir.toAbsolutePath() + "/NAME.NAMESPACE/"
            : output.outputFile != null
                ? "bundles into " + output.outputFile.toAbsolutePath()
                : "over SSH ("
                    + (ssh.user == null ? "" : "user " + ssh.user + ", ")
                    + (keys.isEmpty() ? "no key" : "keys " + keys)
                    + (ssh.password ? ", password" : "")
                    + ", host keys: "
                    + hostKeyDescription()
                    + ")";
    String proxy =
        connector == null
            ? ""
            : action.offboard
                ? ", proxy stopped and removed"
                : action.startIstioProxy
                    ? ", proxy started"
                    : ", proxy not started (--start-istio-proxy starts it)";
    return "sidecar-bootstrap: "
        + what
        + " "
        + refs.size()
        + (refs.size() == 1 ? " VM" : " VMs")
        + " of "
        + cluster.description()
        + ", "
        + action.style
        + " style, "
        + where
        + proxy;
  }

  private void report(FleetResult fleet) {
    if (action.dryRun) {
      for (OnboardingResult result : fleet.results()) {
        result.plan().ifPresent(plan -> out.print(plan));
        out.println();
      }
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("VM", "RESULT", "DURATION", "ERROR"));
    for (OnboardingResult result : fleet.results()) {
      rows.add(
          List.of(
              result.workload().toString(),
              result.outcome().name(),
              Texts.millis(result.duration()),
              result.failure().map(failure -> error(result, failure)).orElse("")));
    }
    Texts.table("", rows).forEach(out::println);
    out.println(
        fleet.results().size()
            + (fleet.results().size() == 1 ? " VM: " : " VMs: ")
            + fleet.successCount()
            + " succeeded, "
            + fleet.failures().size()
            + " failed, in "
            + Texts.millis(fleet.duration()));
    if (!action.dryRun && !action.offboard) {
      if (output.outputDir != null) {
        out.println(
            "bundles in "
                + output.outputDir.toAbsolutePath()
                + "/NAME.NAMESPACE/: copy one to its VM and run its bin/start-istio-proxy.sh");
      } else if (output.outputFile != null
          && Files.isRegularFile(output.outputFile, LinkOption.NOFOLLOW_LINKS)) {
        out.println(
            "bundles in "
                + output.outputFile.toAbsolutePath()
                + " (owner-only: it holds tokens): tar -xzpf it, then NAME.NAMESPACE/bin/"
                + "start-istio-proxy.sh on each VM");
      }
    }
  }

  /** The failure without the workload prefix the VM column already shows. */
  private static String error(OnboardingResult result, OnboardingException failure) {
    String message = oneLine(failure.getMessage());
    String prefix = result.workload() + ": ";
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }

  static String oneLine(String text) {
    return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ").strip();
  }
}
