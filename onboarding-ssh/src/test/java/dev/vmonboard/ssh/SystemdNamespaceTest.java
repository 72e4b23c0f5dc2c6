package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd style at Istio's real, fixed destinations ({@code /etc/certs}, {@code
 * /var/run/secrets/tokens}, {@code /var/lib/istio/envoy}, {@code /etc/istio/config}, {@code
 * /etc/hosts}, and the records in {@code /var/lib/vmonboard}), never the machine's own: a real
 * OpenSSH {@code sshd} runs in a private mount namespace ({@code unshare -m}) with overlays on
 * {@code /etc}, {@code /run} and {@code /var/lib}, so its sessions write into the overlays' upper
 * directories only. The upper directories are exactly what changed; each test compares them, byte
 * for byte, before and after vmonboard ran. The {@code istio-proxy} user (uid 1337) exists only in
 * the overlay's {@code /etc/passwd}. Needs root and overlayfs: skipped without them, except under
 * CI, where that fails.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SystemdNamespaceTest {

  static final int ISTIO_PROXY = 1337;

  @TempDir Path dir;
  OpenSshServer sshd;
  SshConnector connector;
  Path upper;
  final List<StageContext.Standalone> contexts = new ArrayList<>();

  /** Whether this machine can mount overlays in a private mount namespace (root, overlayfs). */
  static boolean namespacesWork(Path scratch) {
    try {
      Path probe = Files.createDirectories(scratch.resolve("probe"));
      for (String d : List.of("lower", "upper", "work", "merged")) {
        Files.createDirectories(probe.resolve(d));
      }
      Process p =
          new ProcessBuilder(
                  "unshare",
                  "-m",
                  "--propagation",
                  "private",
                  "mount",
                  "-t",
                  "overlay",
                  "overlay",
                  "-o",
                  "lowerdir="
                      + probe.resolve("lower")
                      + ",upperdir="
                      + probe.resolve("upper")
                      + ",workdir="
                      + probe.resolve("work"),
                  probe.resolve("merged").toString())
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @BeforeEach
  void start() throws Exception {
    OpenSshServer.requireSshd();
    assertThat(Path.of(SystemdProxyLauncher.DEFAULT_STATE_DIRECTORY))
        .as("no test may write this machine's own state directory (set stateDirectory)")
        .doesNotExist();
    boolean works = namespacesWork(dir);
    if (!works && System.getenv("CI") != null) {
      fail("CI is set but this machine cannot mount overlays in a private mount namespace (root?)");
    }
    assumeTrue(works, "needs root, unshare -m and overlayfs");
    upper = Files.createDirectories(dir.resolve("overlay"));
    StringBuilder setup = new StringBuilder();
    for (String target : List.of("/etc", "/run", "/var/lib")) {
      String name = target.substring(1).replace('/', '-');
      Path up = Files.createDirectories(upper.resolve(name));
      Path work = Files.createDirectories(dir.resolve("work-" + name));
      setup
          .append("mount -t overlay overlay -o lowerdir=")
          .append(target)
          .append(",upperdir=")
          .append(up)
          .append(",workdir=")
          .append(work)
          .append(' ')
          .append(target)
          .append('\n');
    }
    // Only in the overlay, and only once every mount above succeeded (set -e).
    setup
        .append("echo 'istio-proxy:x:1337:1337::/var/lib/istio:/usr/sbin/nologin' >> /etc/passwd\n")
        .append("echo 'istio-proxy:x:1337:' >> /etc/group\n")
        .append("mkdir -p /run/sshd\n");
    TestKeys.Key key = TestKeys.ed25519(Files.createDirectory(dir.resolve("client")));
    sshd =
        OpenSshServer.startInNamespace(
            Files.createDirectory(dir.resolve("sshd")),
            List.of(key.publicKeyLine()),
            setup.toString());
    connector = sshd.strictConnector(key, dir);
    // Istio's layout, made inside the namespace: istio-proxy owns its directories.
    nsSh(
        "set -e",
        "mkdir -p /etc/certs /var/lib/istio/envoy /var/lib/istio/config /var/run/secrets",
        "[ -e /etc/istio ] || ln -s /var/lib/istio /etc/istio",
        "chown 1337:1337 /etc/certs /var/lib/istio /var/lib/istio/envoy /var/lib/istio/config"
            + " /var/run/secrets");
  }

  @AfterEach
  void stop() {
    contexts.forEach(StageContext.Standalone::close);
    if (sshd != null) {
      sshd.close();
    }
  }

  /** Runs {@code lines} as root inside the namespace (over SSH: the sessions are in it). */
  void nsSh(String... lines) throws Exception {
    try (SshConnection c = connector.connect("127.0.0.1", sshd.port(), null)) {
      ExecResult r = c.exec("setup", String.join("\n", lines), new byte[0], Duration.ofSeconds(30));
      if (r.exitCode() != 0) {
        throw new IllegalStateException("setup failed: " + r.lastErrorLines(5));
      }
    }
  }

  /**
   * A file of the namespace, as the test sees it ({@code /proc/PID/root}). The layout's absolute
   * links ({@code /var/run}, {@code /etc/istio}) are resolved here: through {@code /proc/PID/root}
   * they would point into this machine's own tree.
   */
  Path ns(String path) {
    String physical =
        path.replaceFirst("^/var/run/", "/run/").replaceFirst("^/etc/istio/", "/var/lib/istio/");
    return Path.of("/proc/" + sshd.pid() + "/root" + physical);
  }

  StageContext.Standalone run() {
    StageContext.Standalone c = TestVm.context(Stage.LAUNCH);
    contexts.add(c);
    return c;
  }

  Target target() {
    return Target.builder()
        .host("127.0.0.1")
        .port(sshd.port())
        .configDir(dir.resolve("istio-proxy").toString())
        .build();
  }

  SystemdProxyLauncher launcher() {
    return SystemdProxyLauncher.builder(connector)
        .sudo()
        .readinessTimeout(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .build();
  }

  static final String[][] INSTALLS = {
    {"root-cert.pem", "/etc/certs/root-cert.pem", "0644"},
    {"istio-token", "/var/run/secrets/tokens/istio-token", "0600"},
    {"cluster.env", "/var/lib/istio/envoy/cluster.env", "0644"},
    {"mesh.yaml", "/etc/istio/config/mesh", "0644"}
  };

  /** Istio's official destinations, as SystemdBundleFactory names them. */
  static Bundle bundle() {
    SystemdLaunch.Builder launch = SystemdLaunch.builder();
    for (String[] install : INSTALLS) {
      launch.addInstalls(
          SystemdLaunch.FileInstall.builder()
              .source(install[0])
              .destination(install[1])
              .mode(Integer.parseInt(install[2], 8))
              .build());
    }
    launch.addInstalls(
        SystemdLaunch.FileInstall.builder()
            .source("hosts")
            .destination("/etc/hosts")
            .owner("root")
            .group("root")
            .mode(0644)
            .append(true)
            .build());
    return Bundle.builder()
        .workload(WorkloadRef.of("ns", "vm-1"))
        .addFiles(BundleFile.of("cluster.env", 0644, Bundles.bytes("ISTIO_SERVICE='vm.ns'\n")))
        .addFiles(BundleFile.of("mesh.yaml", 0644, Bundles.bytes("defaultConfig: {}\n")))
        .addFiles(BundleFile.of("root-cert.pem", 0644, Bundles.bytes("-----CERT-----\n")))
        .addFiles(BundleFile.of("hosts", 0644, Bundles.bytes("10.0.0.1 istiod.istio-system.svc\n")))
        .tokenPath("istio-token")
        .launch(launch.build())
        .build()
        .withToken(BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.now().plusSeconds(60)));
  }

  /** The upper directories' paths vmonboard may change (relative to {@link #upper}). */
  static final List<String> OWN =
      List.of(
          "etc/certs/root-cert.pem",
          "etc/hosts",
          "run/secrets/tokens",
          "var-lib/istio/envoy/cluster.env",
          "var-lib/istio/config/mesh",
          "var-lib/vmonboard");

  @Test
  void installsAtTheRealDestinationsReplacingWhatIstioProxyPlantedAndOffboardsToTheSameBytes()
      throws Exception {
    byte[] realShadow = Files.readAllBytes(Path.of("/etc/shadow"));
    byte[] realHosts = Files.readAllBytes(Path.of("/etc/hosts"));
    // istio-proxy links its files to /etc/shadow and leaves a FIFO where the mesh config goes.
    nsSh(
        "set -e",
        "ln /etc/shadow /etc/certs/root-cert.pem",
        "ln -s /etc/shadow /var/lib/istio/envoy/cluster.env",
        "chown -h 1337:1337 /var/lib/istio/envoy/cluster.env",
        "mkfifo /var/lib/istio/config/mesh && chown 1337:1337 /var/lib/istio/config/mesh");
    byte[] nsShadow = Files.readAllBytes(ns("/etc/shadow"));
    Map<String, String> planted = FileTree.of(upper);
    StageContext.Standalone run = run();
    SshTransport.using(connector).deliver(bundle(), target(), run);

    launcher().launch(bundle(), target(), run);

    FileTree.assertOnlyChanged(planted, FileTree.of(upper), OWN);
    assertThat(Files.readAllBytes(ns("/etc/shadow"))).isEqualTo(nsShadow);
    for (String[] install : INSTALLS) {
      Path installed = ns(install[1]);
      assertThat(Files.isRegularFile(installed, LinkOption.NOFOLLOW_LINKS)).as(install[1]).isTrue();
      assertThat(Files.getAttribute(installed, "unix:uid", LinkOption.NOFOLLOW_LINKS))
          .isEqualTo(ISTIO_PROXY);
      assertThat(TestVm.mode(installed)).isEqualTo(Integer.parseInt(install[2], 8));
    }
    assertThat(ns("/var/run/secrets/tokens/istio-token")).content().startsWith(Canary.SECRET);
    assertThat(Files.readString(ns("/etc/hosts")))
        .isEqualTo(new String(realHosts) + "10.0.0.1 istiod.istio-system.svc\n");
    assertThat(TestVm.mode(ns("/var/lib/vmonboard"))).isEqualTo(0700);

    Map<String, String> installed = FileTree.of(upper);
    launcher().remove(bundle(), target(), run());
    SshTransport.using(connector).remove(target(), run());
    FileTree.assertOnlyChanged(installed, FileTree.of(upper), OWN);
    assertThat(Files.readAllBytes(ns("/etc/hosts"))).isEqualTo(realHosts);
    assertThat(ns("/etc/certs/root-cert.pem")).doesNotExist();
    assertThat(ns("/var/lib/vmonboard/istio.files")).doesNotExist();
    // The machine's own files never changed.
    assertThat(Files.readAllBytes(Path.of("/etc/shadow"))).isEqualTo(realShadow);
    assertThat(Files.readAllBytes(Path.of("/etc/hosts"))).isEqualTo(realHosts);
    assertThat(Path.of("/var/lib/vmonboard")).doesNotExist();
  }

  @Test
  void offboardingAVmItNeverOnboardedLeavesEveryFileAndLine() throws Exception {
    nsSh(
        "set -e",
        "mkdir -p /var/run/secrets/tokens",
        "for f in /etc/certs/root-cert.pem /var/run/secrets/tokens/istio-token"
            + " /var/lib/istio/envoy/cluster.env /etc/istio/config/mesh; do",
        "  echo \"the admin's own $f\" > \"$f\"",
        "done",
        "echo '10.0.0.1 istiod.istio-system.svc' >> /etc/hosts");
    Map<String, String> before = FileTree.of(upper);

    launcher().remove(bundle(), target(), run());

    FileTree.assertOnlyChanged(before, FileTree.of(upper), List.of());
    assertThat(Files.readString(ns("/etc/hosts"))).endsWith("10.0.0.1 istiod.istio-system.svc\n");
  }
}
