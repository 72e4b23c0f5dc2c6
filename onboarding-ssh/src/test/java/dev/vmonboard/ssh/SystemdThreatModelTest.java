package dev.vmonboard.ssh;

import static dev.vmonboard.ssh.VmThreatModelTest.chown;
import static dev.vmonboard.ssh.VmThreatModelTest.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The threat model of the systemd style against a real OpenSSH server, with Istio's layout rebuilt
 * inside a directory that stands for the VM's {@code /} (the fixed system paths themselves are
 * tried in {@link SystemdNamespaceTest}): the {@code istio-proxy} user (here uid 65534, {@code
 * nobody}) owns {@code var/lib/istio}, {@code etc/certs} and {@code var/run/secrets}, as in the
 * official flow, and plants links, hard links and FIFOs there; a VM vmonboard never onboarded has
 * files of its own at the destinations and lines in {@code etc/hosts}. Every test compares the
 * whole tree byte for byte.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SystemdThreatModelTest {

  static final String ISTIO_PROXY = "nobody";
  static final int ISTIO_PROXY_UID = 65534;

  @TempDir static Path dir;
  static OpenSshServer sshd;
  static SshConnector connector;
  static final AtomicInteger vms = new AtomicInteger();
  private final List<StageContext.Standalone> contexts = new ArrayList<>();
  Path fs;

  @BeforeAll
  static void start() throws Exception {
    OpenSshServer.requireSshd();
    TestKeys.Key key = TestKeys.ed25519(Files.createDirectory(dir.resolve("client")));
    sshd =
        OpenSshServer.start(
            Files.createDirectory(dir.resolve("sshd")), List.of(key.publicKeyLine()));
    connector = sshd.strictConnector(key, dir);
  }

  @AfterAll
  static void stop() {
    if (sshd != null) {
      sshd.close();
    }
  }

  /** A VM root with Istio's directories, owned by istio-proxy where the official flow has it. */
  @BeforeEach
  void layout() throws Exception {
    fs = Files.createDirectory(dir.resolve("vm" + vms.incrementAndGet()));
    sh("chmod", "0755", fs.toString());
    for (String d :
        List.of("etc/certs", "var/lib/istio/envoy", "var/lib/istio/config", "var/run/secrets")) {
      Files.createDirectories(fs.resolve(d));
    }
    Files.createSymbolicLink(fs.resolve("etc/istio"), fs.resolve("var/lib/istio"));
    for (String d :
        List.of(
            "etc/certs",
            "var/lib/istio",
            "var/lib/istio/envoy",
            "var/lib/istio/config",
            "var/run/secrets")) {
      chown(ISTIO_PROXY_UID, fs.resolve(d));
    }
    Files.writeString(fs.resolve("etc/hosts"), "127.0.0.1 localhost\n");
    Path secret = Files.createDirectories(fs.resolve("etc/secret"));
    Files.writeString(secret.resolve("shadow"), "root:$6$precious:19000::::::\n");
    sh("chmod", "0600", secret.resolve("shadow").toString());
  }

  @AfterEach
  void closeContexts() {
    contexts.forEach(StageContext.Standalone::close);
  }

  StageContext.Standalone run() {
    StageContext.Standalone c = TestVm.context(Stage.LAUNCH);
    contexts.add(c);
    return c;
  }

  Path configDir() {
    return fs.resolve("home/admin/istio");
  }

  Target target() {
    return Target.builder()
        .host("127.0.0.1")
        .port(sshd.port())
        .configDir(configDir().toString())
        .build();
  }

  SystemdProxyLauncher launcher() {
    return SystemdProxyLauncher.builder(connector)
        .stateDirectory(fs.resolve("var/lib/vmonboard").toString())
        .sudo()
        .readinessTimeout(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .build();
  }

  static final String[][] INSTALLS = {
    {"cluster.env", "var/lib/istio/envoy/cluster.env", "0644"},
    {"mesh.yaml", "etc/istio/config/mesh", "0644"},
    {"root-cert.pem", "etc/certs/root-cert.pem", "0644"},
    {"istio-token", "var/run/secrets/tokens/istio-token", "0600"}
  };

  /** Istio's files and destinations (through the {@code etc/istio} link), as istio-proxy's. */
  Bundle bundle(String version) {
    SystemdLaunch.Builder launch = SystemdLaunch.builder();
    for (String[] install : INSTALLS) {
      launch.addInstalls(
          SystemdLaunch.FileInstall.builder()
              .source(install[0])
              .destination(fs.resolve(install[1]).toString())
              .owner(ISTIO_PROXY)
              .group("nogroup")
              .mode(Integer.parseInt(install[2], 8))
              .build());
    }
    launch.addInstalls(
        SystemdLaunch.FileInstall.builder()
            .source("hosts")
            .destination(fs.resolve("etc/hosts").toString())
            .owner("root")
            .group("root")
            .mode(0644)
            .append(true)
            .build());
    return Bundle.builder()
        .workload(WorkloadRef.of("ns", "vm-1"))
        .addFiles(
            BundleFile.of(
                "cluster.env", 0644, Bundles.bytes("ISTIO_SERVICE='vm.ns'\nV=" + version + "\n")))
        .addFiles(BundleFile.of("mesh.yaml", 0644, Bundles.bytes("defaultConfig: {}\n")))
        .addFiles(
            BundleFile.of("root-cert.pem", 0644, Bundles.bytes("-----CERT " + version + "-----\n")))
        .addFiles(
            BundleFile.of(
                "hosts",
                0644,
                Bundles.bytes("127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc\n")))
        .tokenPath("istio-token")
        .launch(launch.build())
        .build()
        .withToken(BootstrapToken.of(Canary.SECRET, "istio-ca", Instant.now().plusSeconds(60)));
  }

  /** What vmonboard may change: the destinations, /etc/hosts, the state and config directories. */
  List<String> own() {
    List<String> own = new ArrayList<>();
    for (String[] install : INSTALLS) {
      own.add(install[1].replace("etc/istio/", "var/lib/istio/"));
    }
    own.add("var/run/secrets/tokens");
    own.add("etc/hosts");
    own.add("var/lib/vmonboard");
    own.add("home");
    return own;
  }

  void deliver(Bundle bundle, StageContext run) {
    SshTransport.using(connector).deliver(bundle, target(), run);
  }

  @Test
  void installsThroughIstioProxysDirectoriesWithoutEverWritingThroughWhatItPlanted()
      throws Exception {
    Path shadow = fs.resolve("etc/secret/shadow");
    // istio-proxy plants a link, a hard link and a FIFO where the files go.
    Files.createSymbolicLink(fs.resolve("var/lib/istio/envoy/cluster.env"), shadow);
    chown(ISTIO_PROXY_UID, fs.resolve("var/lib/istio/envoy/cluster.env"));
    Files.createLink(fs.resolve("etc/certs/root-cert.pem"), shadow);
    // ... and links at the temporary names an older vmonboard used, next to each destination.
    for (String[] install : INSTALLS) {
      Path predictable = fs.resolve(install[1] + ".vmonboard-new");
      if (Files.isDirectory(predictable.getParent())) {
        Files.createSymbolicLink(predictable, shadow);
        chown(ISTIO_PROXY_UID, predictable);
      }
    }
    sh("mkfifo", fs.resolve("var/lib/istio/config/mesh").toString());
    chown(ISTIO_PROXY_UID, fs.resolve("var/lib/istio/config/mesh"));
    Map<String, String> before = FileTree.of(fs);
    StageContext.Standalone run = run();
    deliver(bundle("v1"), run);

    launcher().launch(bundle("v1"), target(), run);

    assertThat(shadow).hasContent("root:$6$precious:19000::::::");
    for (String[] install : INSTALLS) {
      Path installed = fs.resolve(install[1]);
      assertThat(Files.isRegularFile(installed, LinkOption.NOFOLLOW_LINKS)).as(install[1]).isTrue();
      assertThat(Files.getAttribute(installed, "unix:uid", LinkOption.NOFOLLOW_LINKS))
          .as(install[1])
          .isEqualTo(ISTIO_PROXY_UID);
      assertThat(TestVm.mode(installed)).as(install[1]).isEqualTo(Integer.parseInt(install[2], 8));
      assertThat(Files.readAttributes(installed, "unix:nlink").get("nlink")).isEqualTo(1);
    }
    assertThat(fs.resolve("var/run/secrets/tokens/istio-token"))
        .content()
        .startsWith(Canary.SECRET);
    assertThat(fs.resolve("etc/hosts"))
        .hasContent("127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc");
    Map<String, String> after = FileTree.of(fs);
    FileTree.assertOnlyChanged(before, after, own());
    assertThat(after.keySet())
        .as("no temporary name left behind")
        .filteredOn(path -> !before.containsKey(path))
        .noneMatch(path -> path.contains(".vmonboard-"));
  }

  @Test
  void refusesALinkOnTheWayThatIstioProxyCouldHavePlanted() throws Exception {
    Path victims = fs.resolve("etc/secret");
    Files.delete(fs.resolve("var/run/secrets"));
    Files.createSymbolicLink(fs.resolve("var/run/secrets"), victims);
    chown(ISTIO_PROXY_UID, fs.resolve("var/run/secrets"));
    // istio-proxy owns /var/lib/istio: a link it makes there is as hostile.
    Files.delete(fs.resolve("var/lib/istio/config"));
    Files.createSymbolicLink(fs.resolve("var/lib/istio/config"), victims);
    chown(ISTIO_PROXY_UID, fs.resolve("var/lib/istio/config"));
    StageContext.Standalone run = run();
    deliver(bundle("v1"), run);
    Map<String, String> before = FileTree.of(fs);

    assertThatThrownBy(() -> launcher().launch(bundle("v1"), target(), run))
        .hasMessageContaining("exit code 42")
        .hasMessageContaining("refusing to follow the link")
        .satisfies(Canary::assertAbsent);

    FileTree.assertOnlyChanged(before, FileTree.of(fs), own());
    assertThat(victims.resolve("shadow")).hasContent("root:$6$precious:19000::::::");
    try (var listing = Files.list(victims)) {
      assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("shadow");
    }
    // What was installed before the refusal is recorded, so offboarding removes it.
    launcher().remove(bundle("v1"), target(), run());
    assertThat(fs.resolve("var/lib/istio/envoy/cluster.env")).doesNotExist();
  }

  @Test
  void refusesAFifoOrALinkAtEtcHostsWithoutWaiting() throws Exception {
    Files.delete(fs.resolve("etc/hosts"));
    sh("mkfifo", fs.resolve("etc/hosts").toString());
    StageContext.Standalone run = run();
    deliver(bundle("v1"), run);

    assertThatThrownBy(() -> launcher().launch(bundle("v1"), target(), run))
        .hasMessageContaining("exit code 42")
        .hasMessageContaining(
            "refusing to append to " + fs.resolve("etc/hosts") + ": not a plain file");

    Files.delete(fs.resolve("etc/hosts"));
    Files.createSymbolicLink(fs.resolve("etc/hosts"), fs.resolve("etc/secret/shadow"));
    assertThatThrownBy(() -> launcher().launch(bundle("v1"), target(), run()))
        .hasMessageContaining("not a plain file");
    assertThat(fs.resolve("etc/secret/shadow")).hasContent("root:$6$precious:19000::::::");
  }

  @Test
  void offboardingAVmItNeverOnboardedDeletesNothingAndSaysWhatItLeft() throws Exception {
    for (String[] install : INSTALLS) {
      Path file = fs.resolve(install[1]);
      Files.createDirectories(file.getParent());
      Files.writeString(file, "the admin's own " + install[0]);
    }
    Files.writeString(
        fs.resolve("etc/hosts"), "127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc\n");
    Map<String, String> before = FileTree.of(fs);
    List<String> progress = new ArrayList<>();

    launcher().remove(bundle("v1"), target(), reporting(progress));

    FileTree.assertOnlyChanged(before, FileTree.of(fs), List.of());
    assertThat(progress)
        .contains(
            "left "
                + fs.resolve("var/lib/istio/envoy/cluster.env")
                + ": vmonboard has no record"
                + " of installing it");
  }

  @Test
  void offboardingRemovesOnlyTheLinesItAddedAndTheFilesItInstalledUnchanged() throws Exception {
    // The admin had the first hosts line; vmonboard adds only the second.
    Files.writeString(fs.resolve("etc/hosts"), "# admin\n127.0.0.1 localhost\n");
    Map<String, String> before = FileTree.of(fs);
    StageContext.Standalone run = run();
    deliver(bundle("v1"), run);
    launcher().launch(bundle("v1"), target(), run);
    assertThat(fs.resolve("etc/hosts"))
        .hasContent("# admin\n127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc");
    // Someone edits cluster.env afterwards: it is no longer what vmonboard installed.
    Path clusterEnv = fs.resolve("var/lib/istio/envoy/cluster.env");
    Files.writeString(clusterEnv, "EDITED=1\n");
    List<String> progress = new ArrayList<>();

    launcher().remove(bundle("v1"), target(), reporting(progress));
    SshTransport.using(connector).remove(target(), run());

    assertThat(progress)
        .containsExactly("left " + clusterEnv + ": changed since vmonboard installed it");
    assertThat(clusterEnv).hasContent("EDITED=1");
    Map<String, String> after = FileTree.of(fs);
    // Byte for byte: hosts as the admin had it, the other files gone, the records deleted.
    FileTree.assertOnlyChanged(
        before,
        after,
        List.of(
            "var/lib/istio/envoy/cluster.env",
            "var/run/secrets/tokens",
            "var/lib/vmonboard",
            "home"));
    assertThat(Files.readString(fs.resolve("etc/hosts")))
        .isEqualTo("# admin\n127.0.0.1 localhost\n");
  }

  StageContext reporting(List<String> progress) {
    return TestVm.reporting(run(), progress);
  }
}
