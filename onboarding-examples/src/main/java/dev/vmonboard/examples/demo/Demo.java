package dev.vmonboard.examples.demo;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.StageResult;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.examples.support.ClusterView;
import dev.vmonboard.examples.support.DemoKeys;
import dev.vmonboard.examples.support.Quiet;
import dev.vmonboard.examples.support.StageLines;
import dev.vmonboard.examples.support.Substituting;
import dev.vmonboard.examples.support.Texts;
import dev.vmonboard.examples.support.VmView;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.EmbeddedVm;
import dev.vmonboard.ssh.HostKeyPolicy;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshTransport;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The demo: onboards two VMs into an Istio mesh end to end on this machine, with no cluster and no
 * VM of the user's, and checks every step.
 *
 * <p>It starts an {@link EmbeddedIstioCluster} (a Kubernetes API server with Istio installed, in
 * this JVM) and two {@link EmbeddedVm}s (SSH servers on loopback running real {@code /bin/sh}
 * commands, with a stand-in {@code docker}), then plays the scenario users follow with {@code tctl
 * x sidecar-bootstrap}: register {@code backend-vm} with its ServiceAccount, Service and Sidecar;
 * print the dry-run plan; onboard it for real over SSH; show what the VM holds and how long each
 * stage took; offboard it and show the VM clean; the same for {@code frontend-vm}; a summary. The
 * SDK's real stages do all the work: {@link KubernetesRegistrar}, {@link
 * ServiceAccountTokenIssuer}, {@link KubernetesMeshDiscovery}, {@link ContainerBundleFactory},
 * {@link SshTransport}, {@link ContainerProxyLauncher}.
 *
 * <pre>
 * mvn -B -q -pl onboarding-examples -am compile -Ddemo
 * mvn -B -q -pl onboarding-examples -am compile -Ddemo -Dexec.args="--prefix acme"
 * </pre>
 *
 * <p>Exit code 0 when every step and check succeeded, 1 otherwise, 2 for a bad argument.
 */
public final class Demo {

  static final String DEFAULT_PREFIX = "vmonboard";

  /** The container name when no {@code proxy-container-name} annotation says otherwise. */
  private static final String PROXY_CONTAINER = "istio-proxy";

  private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?");
  private static final Pattern USER = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}");
  private static final Pattern JWT =
      Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}");

  private final PrintStream out;
  private final Substituting paths;
  private final ByteArrayOutputStream transcript;
  private final String namespace;
  private final Steps steps = new Steps();
  private final List<String> tokensSeen = new ArrayList<>();

  private Demo(
      PrintStream out, Substituting paths, ByteArrayOutputStream transcript, String prefix) {
    this.out = out;
    this.paths = paths;
    this.transcript = transcript;
    this.namespace = prefix + "-demo-secure";
  }

  /** Runs the demo and exits with its exit code. */
  public static void main(String[] args) {
    Quiet.javaUtilLogging();
    int code = run(args, System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  /**
   * Runs the demo, printing to {@code out}.
   *
   * @return 0 when every step succeeded, 1 when one failed, 2 for a bad argument
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, (backend, frontend) -> {});
  }

  /** What a test does to the demo's VMs once they run, to see the demo fail. */
  @FunctionalInterface
  interface Sabotage {
    void apply(EmbeddedVm backend, EmbeddedVm frontend);
  }

  static int run(String[] args, PrintStream out, PrintStream err, Sabotage sabotage) {
    String prefix = DEFAULT_PREFIX;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h") || arg.equals("--help")) {
        out.println("usage: Demo [--prefix PREFIX]   (namespace PREFIX-demo-secure)");
        return 0;
      } else if (arg.equals("--prefix") && i + 1 < args.length) {
        prefix = args[++i];
      } else if (arg.startsWith("--prefix=")) {
        prefix = arg.substring("--prefix=".length());
      } else {
        err.println("demo: unknown argument '" + arg + "'; usage: Demo [--prefix PREFIX]");
        return 2;
      }
    }
    if (!PREFIX.matcher(prefix).matches()) {
      err.println(
          "demo: --prefix '"
              + prefix
              + "' must be lower-case letters, digits and '-' (a Kubernetes namespace prefix)");
      return 2;
    }
    ByteArrayOutputStream transcript = new ByteArrayOutputStream();
    Substituting paths = new Substituting(new Tee(out, transcript));
    PrintStream both = new PrintStream(paths, true, StandardCharsets.UTF_8);
    int code = new Demo(both, paths, transcript, prefix).play(sabotage);
    both.flush();
    return code;
  }

  private int play(Sabotage sabotage) {
    long started = System.nanoTime();
    out.println("vmonboard demo: two VMs onboarded into an Istio mesh, on this machine alone");
    out.println();
    Path work = null;
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
        DemoVms vms = DemoVms.start()) {
      work = Files.createTempDirectory("vmonboard-demo-");
      Path knownHosts =
          Files.write(
              work.resolve("known_hosts"),
              List.of(vms.backend.knownHostsLine(), vms.frontend.knownHostsLine()));
      out.println(
          "  cluster  a Kubernetes API server with Istio installed, in this JVM, at "
              + cluster.url());
      out.println("           (istio-system, istiod, an east-west gateway); the SDK talks to it");
      out.println("           over HTTP exactly as to a real cluster");
      out.println("  VMs      two SSH servers on loopback running real /bin/sh commands in a");
      out.println(
          "           directory that stands for the VM's filesystem, with a stand-in docker:");
      out.println(
          "           backend  "
              + vms.backend.host()
              + ":"
              + vms.backend.port()
              + ", filesystem $BACKEND_VM="
              + vms.backend.root());
      out.println(
          "           frontend "
              + vms.frontend.host()
              + ":"
              + vms.frontend.port()
              + ", filesystem $FRONTEND_VM="
              + vms.frontend.root());
      out.println(
          "  SSH      a fresh ed25519 key; host keys checked strictly against a known_hosts file");
      paths.replace(vms.backend.root().toString(), "$BACKEND_VM");
      paths.replace(vms.frontend.root().toString(), "$FRONTEND_VM");
      paths.replace(work.toString(), "$DEMO_DIR");
      sabotage.apply(vms.backend, vms.frontend);

      SshConnector ssh =
          SshConnector.builder()
              .identity(vms.keys.identity())
              .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
              .build();
      OnboardingPipeline pipeline =
          OnboardingPipeline.builder()
              .registrar(KubernetesRegistrar.create(cluster.cluster()))
              .tokenIssuer(ServiceAccountTokenIssuer.create(cluster.cluster()))
              .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
              .bundleFactory(ContainerBundleFactory.create())
              .transport(SshTransport.using(ssh))
              .launcher(
                  ContainerProxyLauncher.builder(ssh)
                      .readinessTimeout(Duration.ofSeconds(20))
                      .pollInterval(Duration.ofMillis(100))
                      .build())
              .tokenLifetime(Duration.ofHours(1))
              .listener(StageLines.of(out, "    "))
              .build();

      heading("0. the namespace");
      out.println("  $ kubectl create namespace " + namespace);
      cluster
          .client()
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();

      scenario(pipeline, cluster, vms.backend, DemoVm.BACKEND, List.of("1.", "2.", "3."));
      heading("4. frontend-vm: the same on a second VM, port " + DemoVm.FRONTEND.appPort());
      scenario(pipeline, cluster, vms.frontend, DemoVm.FRONTEND, List.of("4a.", "4b.", "4c."));
    } catch (IOException | RuntimeException e) {
      steps.fail("", "the demo", "stopped: " + e, Duration.ZERO);
    } finally {
      deleteQuietly(work);
    }
    return summary(Duration.ofNanos(System.nanoTime() - started));
  }

  /** Steps 1-3 of the scenario for one VM, with the section numbers given. */
  private void scenario(
      OnboardingPipeline pipeline,
      EmbeddedIstioCluster cluster,
      EmbeddedVm vm,
      DemoVm spec,
      List<String> numbers) {
    boolean fullPlan = numbers.get(0).equals("1.");
    String user = sshUser();
    Registration registration = spec.registration(namespace, vm, user);
    WorkloadRef ref = registration.workload().ref();
    Path configDir = Path.of(spec.configDir(vm));
    Path certsDir = Path.of(configDir + ContainerBundleFactory.CERTIFICATE_DIRECTORY_SUFFIX);

    heading(numbers.get(0) + " " + spec.name() + ": register, plan, onboard");
    out.println("  what to register (Registration):");
    out.println(
        "    WorkloadEntry "
            + ref
            + "  address "
            + spec.address()
            + ", network "
            + DemoVm.NETWORK
            + ", serviceAccount "
            + DemoVm.SERVICE_ACCOUNT);
    out.println("      labels      " + registration.workload().labels());
    registration
        .workload()
        .annotations()
        .forEach((key, value) -> out.println("      annotation  " + key + ": " + value));
    out.println(
        "    ServiceAccount "
            + DemoVm.SERVICE_ACCOUNT
            + "; Service "
            + spec.name()
            + " selecting app="
            + spec.name()
            + ", port http "
            + spec.appPort());
    out.println(
        "    Sidecar "
            + spec.name()
            + ": ingress "
            + spec.appPort()
            + "/HTTP -> 127.0.0.1:"
            + spec.appPort()
            + "; egress bind 127.0.0.2, hosts ./* and xcp-multicluster/*");

    out.println();
    out.println("  dry run: pipeline.dryRun().onboard(registration), nothing is changed");
    OnboardingResult plan =
        steps.run(
            spec.name(),
            "dry run",
            () -> pipeline.dryRun().onboard(registration),
            result -> {
              check(result.outcome() == OnboardingResult.Outcome.PLANNED, "not PLANNED: " + result);
              check(
                  ClusterView.objectsOf(cluster.client(), namespace, spec.name()).stream()
                      .noneMatch(line -> line.startsWith("WorkloadEntry")),
                  "the dry run registered something");
              check(!Files.exists(configDir), "the dry run wrote to the VM");
            });
    if (plan != null && plan.plan().isPresent()) {
      if (fullPlan) {
        Texts.indent("    ", plan.plan().get().toString()).forEach(out::println);
      } else {
        out.println(
            "    "
                + plan.plan().get().steps().size()
                + " steps planned (the same as for backend-vm), token redacted");
      }
    }

    out.println();
    out.println("  onboard: pipeline.onboard(registration), live:");
    OnboardingResult onboarded =
        steps.run(
            spec.name(),
            "onboard",
            () -> pipeline.onboard(registration),
            result -> {
              check(result.isSuccess(), String.valueOf(result));
              check(
                  result.proxyStatus().map(status -> status.isReady()).orElse(false),
                  "the proxy is not ready: " + result.proxyStatus());
            });
    if (onboarded == null) {
      return;
    }
    out.println("  -> " + onboarded.outcome() + " in " + Texts.millis(onboarded.duration()));
    onboarded.proxyStatus().ifPresent(status -> out.println("     proxy " + status));
    onboarded
        .tokenExpiresAt()
        .ifPresent(at -> out.println("     token (one for this VM alone) expires at " + at));

    heading(numbers.get(1) + " what " + spec.name() + " holds now");
    out.println("  in the cluster:");
    ClusterView.objectsOf(cluster.client(), namespace, spec.name())
        .forEach(line -> out.println("    " + line));
    out.println("  on the VM, " + configDir + ":");
    List<String> files = VmView.files(configDir, Set.of(ContainerBundleFactory.TOKEN));
    files.forEach(line -> out.println("    " + line));
    out.println(
        "  next to it, " + certsDir.getFileName() + "/ (the agent's renewed certificates):");
    VmView.files(certsDir, Set.of()).forEach(line -> out.println("    " + line));
    out.println("  some of sidecar.env's lines (what the agent is told):");
    envExcerpt(configDir.resolve(ContainerBundleFactory.ENV_FILE))
        .forEach(line -> out.println("    " + line));
    out.println("  containers: " + vm.containers());
    out.println("  the container command that ran on the VM:");
    VmView.lastRunCommand(vm).forEach(line -> out.println("    " + line));
    out.println("  per-stage timings:");
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("stage", "component", "result", "attempts", "time"));
    for (StageResult stage : onboarded.stages()) {
      rows.add(
          List.of(
              stage.stage().description(),
              stage.stage().component(),
              stage.outcome().name(),
              Integer.toString(stage.attempts()),
              Texts.millis(stage.duration())));
    }
    Texts.table("    ", rows).forEach(out::println);
    steps.check(
        spec.name(),
        "files and proxy on the VM",
        () -> {
          check(
              hasFile(files, "0644", ContainerBundleFactory.ENV_FILE)
                  && hasFile(files, "0644", ContainerBundleFactory.ROOT_CERT)
                  && hasFile(files, "0600", ContainerBundleFactory.TOKEN),
              "expected sidecar.env and istio-ca.pem (0644) and istio-token (0600) in " + files);
          check(
              vm.containers().equals(Map.of(PROXY_CONTAINER, "running")),
              "the proxy container is not running: " + vm.containers());
          tokensSeen.add(Files.readString(configDir.resolve(ContainerBundleFactory.TOKEN)).strip());
        });

    heading(numbers.get(2) + " offboard " + spec.name());
    out.println(
        "  pipeline.offboard(ref): stop and remove the proxy, delete the files, deregister");
    steps.run(
        spec.name(),
        "offboard",
        () -> pipeline.offboard(ref),
        result -> check(result.isSuccess(), String.valueOf(result)));
    out.println("  the VM now:");
    out.println("    " + configDir + (Files.exists(configDir) ? " STILL THERE" : " is gone"));
    out.println("    " + certsDir + (Files.exists(certsDir) ? " STILL THERE" : " is gone"));
    out.println("    containers: " + vm.containers());
    List<String> left = ClusterView.objectsOf(cluster.client(), namespace, spec.name());
    out.println(
        "  the cluster: " + (left.isEmpty() ? "nothing left in " + namespace : "still " + left));
    steps.check(
        spec.name(),
        "VM and cluster clean",
        () -> {
          check(!Files.exists(configDir) && !Files.exists(certsDir), "files left on the VM");
          check(vm.containers().isEmpty(), "containers left: " + vm.containers());
          check(left.isEmpty(), "objects left in the cluster: " + left);
        });
  }

  private int summary(Duration total) {
    heading("5. summary");
    boolean tokenLeaked = false;
    String printed = transcript.toString(StandardCharsets.UTF_8);
    for (String token : tokensSeen) {
      tokenLeaked |= !token.isEmpty() && printed.contains(token);
    }
    tokenLeaked |= JWT.matcher(printed).find();
    if (tokensSeen.isEmpty()) {
      steps.fail("", "tokens", "no token reached a VM", Duration.ZERO);
    } else if (tokenLeaked) {
      steps.fail("", "tokens", "a token appears in this output", Duration.ZERO);
    } else {
      steps.pass(
          "",
          "tokens",
          tokensSeen.size() + " tokens issued, one per VM; neither appears in this output",
          Duration.ZERO);
    }
    Texts.table("  ", steps.rows()).forEach(out::println);
    out.println();
    if (steps.allPassed()) {
      out.println(
          "demo finished in "
              + Texts.millis(total)
              + ": every step succeeded. Next: the sidecar-bootstrap command line and your own"
              + " pipeline (README).");
      return 0;
    }
    out.println("demo FAILED in " + Texts.millis(total) + ": " + steps.failures() + " failed");
    return 1;
  }

  /** The lines of {@code sidecar.env} that the demo's annotations and labels shape. */
  private static List<String> envExcerpt(Path envFile) {
    Set<String> keys =
        Set.of(
            "POD_NAME",
            "POD_NAMESPACE",
            "SERVICE_ACCOUNT",
            "INSTANCE_IP",
            "ISTIO_META_NETWORK",
            "ISTIO_META_WORKLOAD_NAME",
            "CA_ADDR",
            "ISTIO_METAJSON_LABELS");
    try {
      return Files.readAllLines(envFile).stream()
          .filter(line -> keys.contains(line.substring(0, Math.max(0, line.indexOf('=')))))
          .toList();
    } catch (IOException e) {
      return List.of("(cannot read " + envFile + ": " + e.getMessage() + ")");
    }
  }

  private static boolean hasFile(List<String> files, String mode, String name) {
    return files.stream().anyMatch(line -> line.startsWith(mode) && line.contains(" " + name));
  }

  private static String sshUser() {
    String user = System.getProperty("user.name", "");
    return USER.matcher(user).matches() ? user : "vmonboard";
  }

  private void heading(String title) {
    out.println();
    out.println("== " + title + " ==");
  }

  private static void check(boolean condition, String problem) {
    if (!condition) {
      throw new IllegalStateException(problem);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path path : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // a temporary directory; the OS cleans it up eventually
    }
  }

  /** The two embedded VMs and the key that logs in to both. */
  private static final class DemoVms implements AutoCloseable {
    final DemoKeys keys;
    final EmbeddedVm backend;
    final EmbeddedVm frontend;

    private DemoVms(DemoKeys keys, EmbeddedVm backend, EmbeddedVm frontend) {
      this.keys = keys;
      this.backend = backend;
      this.frontend = frontend;
    }

    static DemoVms start() throws IOException {
      DemoKeys keys = DemoKeys.generate();
      EmbeddedVm backend = EmbeddedVm.builder().authorizedKey(keys.publicKeyLine()).start();
      try {
        EmbeddedVm frontend = EmbeddedVm.builder().authorizedKey(keys.publicKeyLine()).start();
        return new DemoVms(keys, backend, frontend);
      } catch (IOException | RuntimeException e) {
        backend.close();
        throw e;
      }
    }

    @Override
    public void close() {
      try {
        backend.close();
      } finally {
        frontend.close();
      }
    }
  }

  /** Writes to the terminal and keeps a copy, to check that no token was printed. */
  private static final class Tee extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    Tee(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws IOException {
      first.write(b);
      second.write(b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      first.write(bytes, offset, length);
      second.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
      first.flush();
      second.flush();
    }
  }
}
