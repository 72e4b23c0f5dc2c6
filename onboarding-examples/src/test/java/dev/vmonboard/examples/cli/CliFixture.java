package dev.vmonboard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.examples.support.DemoKeys;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.ssh.EmbeddedVm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * What the command-line tests run against: manifests of an Istio installation (exported from an
 * embedded cluster, as a user exports theirs with {@code kubectl get -o yaml}) and of VMs that
 * point at {@link EmbeddedVm}s, a client key and a known_hosts file.
 */
final class CliFixture implements AutoCloseable {

  static final String NAMESPACE = "vms";

  final Path dir;
  final Path istio;
  final Path vmsManifest;
  final Path key;
  final Path knownHosts;
  final Path home;
  final List<EmbeddedVm> vms = new ArrayList<>();

  private CliFixture(Path dir, Path istio, Path vmsManifest, Path key, Path knownHosts, Path home) {
    this.dir = dir;
    this.istio = istio;
    this.vmsManifest = vmsManifest;
    this.key = key;
    this.knownHosts = knownHosts;
    this.home = home;
  }

  /** {@code count} VMs that take the fixture's key, or {@code password} when it is not null. */
  static CliFixture start(Path dir, int count, String password) throws IOException {
    DemoKeys keys = DemoKeys.generate();
    Path key = dir.resolve("id_ed25519");
    Files.write(key, keys.privateKeyOpenSsh());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(dir.resolve("id_ed25519.pub"), keys.publicKeyLine() + "\n");
    Path home = Files.createDirectories(dir.resolve("home"));
    CliFixture fixture =
        new CliFixture(
            dir,
            Files.writeString(dir.resolve("istio.yaml"), istioInstallation()),
            dir.resolve("vms.yaml"),
            key,
            dir.resolve("known_hosts"),
            home);
    try {
      List<String> hostLines = new ArrayList<>();
      StringBuilder manifest = new StringBuilder();
      manifest.append(
          String.join(
              "\n",
              "apiVersion: v1",
              "kind: Namespace",
              "metadata:",
              "  name: " + NAMESPACE,
              "---",
              "apiVersion: v1",
              "kind: ServiceAccount",
              "metadata:",
              "  name: vm-sa",
              "  namespace: " + NAMESPACE,
              ""));
      for (int i = 1; i <= count; i++) {
        EmbeddedVm.Builder builder = EmbeddedVm.builder();
        if (password == null) {
          builder.authorizedKey(keys.publicKeyLine());
        } else {
          builder.password(password);
        }
        EmbeddedVm vm = builder.start();
        fixture.vms.add(vm);
        hostLines.add(vm.knownHostsLine());
        manifest.append(entry("vm-" + i, "10.0.0." + i, vm));
      }
      Files.writeString(fixture.vmsManifest, manifest);
      Files.write(fixture.knownHosts, hostLines);
      return fixture;
    } catch (IOException | RuntimeException e) {
      fixture.close();
      throw e;
    }
  }

  private static String entry(String name, String address, EmbeddedVm vm) {
    return String.join(
        "\n",
        "---",
        "apiVersion: networking.istio.io/v1",
        "kind: WorkloadEntry",
        "metadata:",
        "  name: " + name,
        "  namespace: " + NAMESPACE,
        "  annotations:",
        "    " + BootstrapAnnotation.SSH_HOST.key() + ": " + vm.host(),
        "    " + BootstrapAnnotation.SSH_PORT.key() + ": \"" + vm.port() + "\"",
        "    " + BootstrapAnnotation.PROXY_CONFIG_DIR.key() + ": " + configDir(vm),
        "spec:",
        "  address: " + address,
        "  labels:",
        "    app: " + name,
        "  serviceAccount: vm-sa",
        "");
  }

  static Path configDir(EmbeddedVm vm) {
    return vm.root().resolve("etc/istio-proxy");
  }

  private static String istioInstallation;

  /**
   * The built-in Istio installation as multi-document YAML, exported once per test run from an
   * embedded cluster (the way a user exports theirs with {@code kubectl get -o yaml}).
   */
  static synchronized String istioInstallation() {
    if (istioInstallation == null) {
      istioInstallation = exportIstio();
    }
    return istioInstallation;
  }

  private static String exportIstio() {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      KubernetesClient client = cluster.client();
      List<HasMetadata> objects = new ArrayList<>();
      objects.add(client.namespaces().withName("istio-system").get());
      objects.addAll(client.configMaps().inNamespace("istio-system").list().getItems());
      objects.addAll(client.services().inNamespace("istio-system").list().getItems());
      // One "kind: List" document, as kubectl get NAME... -o yaml writes it.
      return client
          .getKubernetesSerialization()
          .asYaml(new KubernetesListBuilder().withItems(objects).build());
    }
  }

  /** Runs the command line; {@code secrets} answer the prompts in order. */
  Run run(String... args) {
    return run(List.of(), args);
  }

  Run run(List<String> secrets, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> prompts = new ArrayList<>();
    List<String> answers = new ArrayList<>(secrets);
    int code =
        SidecarBootstrap.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            prompt -> {
              prompts.add(prompt);
              return answers.isEmpty() ? null : answers.remove(0).toCharArray();
            },
            home);
    Run run =
        new Run(
            code,
            out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8),
            prompts);
    // Whatever a run did or failed to do, its output holds no token (the embedded cluster's are
    // JWTs), no canary and none of the secrets typed at its prompts.
    assertThat(run.all()).as("output of " + run).doesNotContainPattern(JWT);
    Canary.assertAbsent("sidecar-bootstrap output", run.all());
    for (String secret : secrets) {
      assertThat(run.all()).as("output").doesNotContain(secret);
    }
    return run;
  }

  /** The start of a JSON web token: what a leaked bootstrap token would look like. */
  static final String JWT = "eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.";

  /** The arguments that point the command at the fixture's cluster, key and known_hosts. */
  List<String> cluster() {
    return List.of("--embedded-cluster", istio.toString(), vmsManifest.toString());
  }

  List<String> login() {
    return List.of("-k", key.toString(), "--known-hosts", knownHosts.toString());
  }

  static String[] args(List<?>... parts) {
    List<String> all = new ArrayList<>();
    for (List<?> part : parts) {
      part.forEach(value -> all.add(String.valueOf(value)));
    }
    return all.toArray(String[]::new);
  }

  @Override
  public void close() {
    vms.forEach(EmbeddedVm::close);
  }

  /** What one run of the command printed and returned. */
  record Run(int code, String out, String err, List<String> prompts) {
    String all() {
      return out + err;
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }
}
