package dev.vmonboard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input of issue 6 and every conflict between options: one line on standard error that says
 * what to fix, exit code 2, nothing on standard output, no stack trace unless {@code --verbose}.
 */
class BadInputTest {

  @TempDir static Path dir;
  static CliFixture fixture;
  static Path kubeconfig;

  @BeforeAll
  static void start() throws IOException {
    fixture = CliFixture.start(dir, 1, null);
    kubeconfig =
        Files.writeString(
            dir.resolve("kubeconfig"),
            String.join(
                "\n",
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                "- name: dev",
                "  cluster:",
                "    server: http://127.0.0.1:1",
                "users:",
                "- name: dev",
                "  user:",
                "    token: t",
                "contexts:",
                "- name: dev",
                "  context:",
                "    cluster: dev",
                "    user: dev",
                "current-context: dev",
                ""));
    Files.writeString(dir.resolve("not-yaml"), "clusters: [dev\n  - {oops\n");
    Files.writeString(dir.resolve("a-list.yaml"), "- apiVersion: v1\n- kind: Config\n");
    Files.writeString(dir.resolve("a-file"), "not a directory\n");
    Files.createDirectories(dir.resolve("a-directory.tgz"));
    Files.writeString(
        dir.resolve("unknown-kind.yaml"),
        "apiVersion: example.com/v1\nkind: Gizmo\n" + "metadata:\n  name: g\n  namespace: vms\n");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  static Stream<Arguments> badInput() {
    String cluster = "--embedded-cluster";
    String istio = fixture.istio.toString();
    String vms = fixture.vmsManifest.toString();
    String key = fixture.key.toString();
    String out = dir.resolve("out").toString();
    return Stream.of(
        // issue 6's list
        bad("WorkloadEntry vms/nope not found", "nope.vms", cluster, istio, vms, "--dry-run"),
        bad("namespace 'nowhere' does not exist", "-a", "-n", "nowhere", cluster, "--dry-run"),
        bad(
            "has no context 'missing'",
            "vm-1",
            "--kubeconfig",
            kubeconfig.toString(),
            "--context",
            "missing"),
        bad(
            "--ssh-key /no/such/key: cannot read it (no such file)",
            "vm-1.vms",
            "-k",
            "/no/such/key",
            cluster,
            istio,
            vms),
        bad(
            "is not a private key in OpenSSH or PEM format (it looks like the public key)",
            "vm-1.vms",
            "-k",
            key + ".pub",
            cluster,
            istio,
            vms),
        bad(
            "--output-dir writes the bundles and --dry-run writes nothing",
            "vm-1",
            "--dry-run",
            "-d",
            out),
        bad(
            "--output-file writes the bundles and --dry-run writes nothing",
            "vm-1",
            "--dry-run",
            "--output-file",
            out + ".tgz"),
        bad(
            "--output-dir and --output-file are two destinations",
            "vm-1",
            "--local-dir",
            out,
            "--output-file",
            out + ".tgz"),
        // the other conflicts
        bad(
            "--output-file " + out + ".zip must end with .tgz",
            "vm-1",
            "--output-file",
            out + ".zip"),
        bad(
            "no proxy to start: drop --start-istio-proxy",
            "vm-1",
            "-d",
            out,
            "--start-istio-proxy"),
        bad(
            "--ssh-key, --ignore-host-keys have no effect with --output-dir",
            "vm-1",
            "-d",
            out,
            "-k",
            key,
            "--ignore-host-keys"),
        bad("--offboard works on the VMs over SSH", "vm-1", "-d", out, "--offboard"),
        bad("drop the names or --all", "vm-1", "-a"),
        bad(
            "name the WorkloadEntries to bootstrap (NAME[.NAMESPACE]...) or pass --all",
            "-n",
            "vms"),
        bad("--embedded-cluster replaces the real cluster", "vm-1", "--context", "dev", cluster),
        bad(
            "--ignore-host-keys checks no host key: drop it, or drop --trust-on-first-use", "vm-1",
            "--ignore-host-keys", "--trust-on-first-use"),
        bad(
            "--offboard stops the proxy; --start-istio-proxy starts it",
            "vm-1",
            "--offboard",
            "--start-istio-proxy"),
        bad("--duration 5m is below the 10m Kubernetes accepts", "vm-1", "--duration", "5m"),
        bad("'soon' is not a duration", "vm-1", "--duration", "soon"),
        bad("Unknown option: '--bogus'", "vm-1", "--bogus"),
        bad("Invalid value for option '--style'", "vm-1", "--style", "podman"),
        bad("--ssh-port 70000 is not a port", "vm-1", "--ssh-port", "70000"),
        bad("--concurrency must be at least 1", "vm-1", "--concurrency", "0"),
        bad("--docs prints the annotation catalogue and takes no other option", "--docs", "vm-1"),
        bad(
            "--kubeconfig /no/such/kubeconfig: no such file",
            "vm-1",
            "--kubeconfig",
            "/no/such/kubeconfig"),
        bad("cannot read manifest '/no/such.yaml'", "vm-1", cluster, "/no/such.yaml"),
        // a newcomer's files
        bad(
            "kubeconfig " + dir.resolve("not-yaml") + " is not YAML: ",
            "vm-1",
            "--kubeconfig",
            dir.resolve("not-yaml").toString()),
        bad(
            "kubeconfig "
                + dir.resolve("a-list.yaml")
                + " is not a kubeconfig: expected a YAML"
                + " mapping",
            "vm-1",
            "--kubeconfig",
            dir.resolve("a-list.yaml").toString()),
        bad(
            "--output-file "
                + dir.resolve("a-file/out/b.tgz")
                + ": cannot be written, "
                + dir.resolve("a-file")
                + " is not a directory",
            "vm-1.vms",
            cluster,
            istio,
            vms,
            "--output-file",
            dir.resolve("a-file/out/b.tgz").toString()),
        bad(
            "--output-dir " + dir.resolve("a-file") + " exists and is not a directory",
            "vm-1.vms",
            cluster,
            istio,
            vms,
            "-d",
            dir.resolve("a-file").toString()),
        bad(
            "--output-file " + dir.resolve("a-directory.tgz") + " is a directory",
            "vm-1.vms",
            cluster,
            istio,
            vms,
            "--output-file",
            dir.resolve("a-directory.tgz").toString()),
        bad(
            "Gizmo (example.com/v1) g is of a kind the embedded cluster does not know",
            "vm-1",
            cluster,
            dir.resolve("unknown-kind.yaml").toString()),
        bad("invalid workload reference", "bad..name", cluster, istio, vms, "--dry-run"),
        bad("no SSH key: give one with -k FILE", "vm-1.vms", cluster, istio, vms),
        bad(
            "cannot be read, so no host key can be checked",
            "vm-1.vms",
            "-k",
            key,
            cluster,
            istio,
            vms));
  }

  private static Arguments bad(String message, String... args) {
    return Arguments.of(message, List.of(args));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("badInput")
  void refusedWithOneLineAndExitCodeTwo(String message, List<String> args) {
    CliFixture.Run run = fixture.run(args.toArray(String[]::new));

    assertThat(run.code()).as(run.toString()).isEqualTo(2);
    assertThat(run.out()).as(run.toString()).isEmpty();
    assertThat(run.err().lines()).as(run.toString()).hasSize(1);
    assertThat(run.err()).startsWith("sidecar-bootstrap: error: ").contains(message);
    assertThat(fixture.vms.get(0).connectionsAccepted()).isZero();
  }

  @Test
  void noKubeconfigAtAllSaysWhereItLooked() {
    assumeTrue(
        System.getenv("KUBECONFIG") == null
            && System.getProperty("kubeconfig") == null
            && System.getenv("KUBERNETES_SERVICE_HOST") == null,
        "this machine names a kubeconfig or runs in a pod");
    CliFixture.Run run = fixture.run("vm-1", "-n", "vms");

    assertThat(run.code()).as(run.toString()).isEqualTo(2);
    assertThat(run.err().lines()).as(run.toString()).hasSize(1);
    assertThat(run.err())
        .contains(
            "no kubeconfig found (looked at "
                + fixture.home.resolve(".kube").resolve("config")
                + "): name one with --kubeconfig FILE");
  }

  @Test
  void verboseAddsTheStackTrace() {
    List<String> args = new ArrayList<>(List.of("nope.vms", "--embedded-cluster"));
    args.add(fixture.istio.toString());
    args.add(fixture.vmsManifest.toString());
    args.addAll(List.of("--dry-run", "--verbose"));

    CliFixture.Run run = fixture.run(args.toArray(String[]::new));

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err())
        .startsWith("sidecar-bootstrap: error: WorkloadEntry vms/nope not found")
        .contains("\tat dev.vmonboard.");
  }

  @Test
  void anUnreachableClusterIsOneLineWithExitCodeOne() {
    CliFixture.Run run = fixture.run("vm-1", "--kubeconfig", kubeconfig.toString(), "--dry-run");

    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err())
        .startsWith("sidecar-bootstrap: error: ")
        .contains("127.0.0.1:1")
        .contains("(--verbose shows the stack trace)");
  }
}
