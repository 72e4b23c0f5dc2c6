package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.testing.Canary;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The threat model of the VM side (README, "Threat model"), tried against a real OpenSSH server
 * with the transport and the container launcher: a local user of the VM (uid {@value #LOCAL_USER})
 * who can write a shared directory, the proxy container (uid {@value #PROXY}) that can write its
 * certificate directory, and the network that cuts the connection. Each test plants what the
 * attacker can, runs vmonboard, and compares the whole file tree before and after, byte for byte:
 * nothing outside vmonboard's own files may change, and nothing planted may be followed, opened,
 * adopted or deleted. Tests run as root, as CI does; the attackers are other uids given to files.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VmThreatModelTest {

  static final int LOCAL_USER = 4242;
  static final int PROXY = 1337;

  @TempDir static Path dir;
  static OpenSshServer sshd;
  static SshConnector connector;
  static TestKeys.Key key;
  static final AtomicInteger vms = new AtomicInteger();
  private final List<StageContext.Standalone> contexts = new ArrayList<>();

  /** This test's VM file system: a directory only root can change, like a VM's {@code /}. */
  Path fs;

  @BeforeAll
  static void start() throws Exception {
    OpenSshServer.requireSshd();
    key = TestKeys.ed25519(Files.createDirectory(dir.resolve("client")));
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

  @org.junit.jupiter.api.BeforeEach
  void newVm() throws Exception {
    fs = Files.createDirectory(dir.resolve("vm" + vms.incrementAndGet()));
    sh("chmod", "0755", fs.toString());
  }

  @AfterEach
  void closeContexts() {
    contexts.forEach(StageContext.Standalone::close);
  }

  StageContext.Standalone run() {
    StageContext.Standalone c = TestVm.context(Stage.DELIVER);
    contexts.add(c);
    return c;
  }

  static Target target(Path configDir) {
    return Target.builder()
        .host("127.0.0.1")
        .port(sshd.port())
        .configDir(configDir.toString())
        .build();
  }

  static SshTransport transport() {
    return SshTransport.using(connector);
  }

  static ContainerProxyLauncher launcher() {
    return ContainerProxyLauncher.builder(connector)
        .readinessTimeout(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .build();
  }

  /** Runs a command on this machine (the VM's files are local), failing on a non-zero exit. */
  static void sh(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + ": " + out);
    }
  }

  /** Gives {@code path} (never a link's target) to {@code uid}. */
  static void chown(int uid, Path path) throws Exception {
    sh("chown", "-h", uid + ":" + uid, path.toString());
  }

  /** What the attacker wants to reach: a file and a directory outside the config directory. */
  Path victimFile() throws Exception {
    Path victims = Files.createDirectories(fs.resolve("etc/secret"));
    Path shadow = victims.resolve("shadow");
    if (!Files.exists(shadow)) {
      Files.writeString(shadow, "root:$6$precious:19000::::::\n");
      sh("chmod", "0600", shadow.toString());
    }
    return shadow;
  }

  static Path certs(Path configDir) {
    return Path.of(configDir + Bundles.CERTS_SUFFIX);
  }

  static Path state(Path configDir) {
    return configDir.resolveSibling("." + configDir.getFileName() + ".vmonboard");
  }

  /** The paths (relative to the VM's root) that vmonboard owns for {@code configDir}. */
  List<String> own(Path configDir) {
    return List.of(
        fs.relativize(configDir).toString(),
        fs.relativize(state(configDir)).toString(),
        fs.relativize(certs(configDir)).toString());
  }

  /** The config and state directories of {@code configDir}: what a delivery may change. */
  List<String> bundleOnly(Path configDir) {
    return List.of(fs.relativize(configDir).toString(), fs.relativize(state(configDir)).toString());
  }

  static int exitCode(Throwable e) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("exit code (\\d+)").matcher(e.getMessage());
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  // ---- 1. Links and modes: never written through, never used ----

  @ParameterizedTest(name = "a link planted at the {0}")
  @ValueSource(strings = {"config directory", "state directory", "certificate directory"})
  void aLinkPlantedWhereVmonboardWritesIsRefusedAndItsTargetUntouched(String where)
      throws Exception {
    Path shared = Files.createDirectories(fs.resolve("tmp"));
    sh("chmod", "1777", shared.toString());
    Path configDir = shared.resolve("istio-proxy");
    Path victimDir = victimFile().getParent();
    Path planted =
        switch (where) {
          case "config directory" -> configDir;
          case "state directory" -> state(configDir);
          default -> certs(configDir);
        };
    if (where.equals("certificate directory")) {
      transport().deliver(Bundles.container("v1"), target(configDir), run());
    }
    Files.createSymbolicLink(planted, victimDir);
    chown(LOCAL_USER, planted);
    Map<String, String> before = FileTree.of(fs);

    StageContext.Standalone run = run();
    assertThatThrownBy(
            () -> {
              transport().deliver(Bundles.container("v2"), target(configDir), run);
              launcher().launch(Bundles.container("v2"), target(configDir), run);
            })
        .isInstanceOf(StageException.class)
        .satisfies(e -> assertThat(exitCode(e)).isEqualTo(20))
        .hasMessageContaining("refusing to use ./" + planted.getFileName())
        .hasMessageContaining("not a directory but l")
        .satisfies(Canary::assertAbsent);

    FileTree.assertOnlyChanged(
        before,
        FileTree.of(fs),
        where.equals("certificate directory") ? bundleOnly(configDir) : List.of());
    assertThat(sshd.standIns().containers()).doesNotContainKey("istio-proxy");
  }

  @Test
  void aLinkOnTheWayThatSomeoneElseOwnsIsRefused() throws Exception {
    Path real = Files.createDirectories(fs.resolve("home/user/stuff"));
    Path link = Files.createDirectories(fs.resolve("srv")).resolve("istio");
    Files.createSymbolicLink(link, real);
    chown(LOCAL_USER, link);
    Map<String, String> before = FileTree.of(fs);

    assertThatThrownBy(
            () ->
                transport().deliver(Bundles.container("v1"), target(link.resolve("proxy")), run()))
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("it belongs to uid " + LOCAL_USER);

    FileTree.assertOnlyChanged(before, FileTree.of(fs), List.of());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "a parent others can write (0777, no sticky bit)",
        "a parent of another user",
        "a config directory others can write",
        "a config directory of another user",
        "a certificate directory others can write",
        "a state directory others can read"
      })
  void hostileModesAndOwnersAreRefusedNotKept(String hostile) throws Exception {
    Path parent = Files.createDirectories(fs.resolve("srv/shared"));
    Path configDir = parent.resolve("istio-proxy");
    if (hostile.contains("certificate") || hostile.contains("state")) {
      transport().deliver(Bundles.container("v1"), target(configDir), run());
    }
    switch (hostile) {
      case "a parent others can write (0777, no sticky bit)" ->
          sh("chmod", "0777", parent.toString());
      case "a parent of another user" -> chown(LOCAL_USER, parent);
      case "a config directory others can write" -> {
        Files.createDirectory(configDir);
        sh("chmod", "0777", configDir.toString());
      }
      case "a config directory of another user" -> {
        Files.createDirectory(configDir);
        chown(LOCAL_USER, configDir);
      }
      case "a certificate directory others can write" -> {
        Files.createDirectory(certs(configDir));
        sh("chmod", "0777", certs(configDir).toString());
      }
      default -> sh("chmod", "0755", state(configDir).toString());
    }
    Map<String, String> before = FileTree.of(fs);

    StageContext.Standalone run = run();
    assertThatThrownBy(
            () -> {
              transport().deliver(Bundles.container("v2"), target(configDir), run);
              launcher().launch(Bundles.container("v2"), target(configDir), run);
            })
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("refusing to");

    // Where the delivery passed and the launch refused, the delivery changed the bundle only.
    FileTree.assertOnlyChanged(
        before,
        FileTree.of(fs),
        hostile.contains("certificate") ? bundleOnly(configDir) : List.of());
  }

  @Test
  void whatTheContainerLeavesInItsDirectoryIsReplacedNeverWrittenThrough() throws Exception {
    Path configDir = fs.resolve("etc/istio-proxy");
    Target target = target(configDir);
    StageContext.Standalone first = run();
    transport().deliver(Bundles.container("v1"), target, first);
    launcher().launch(Bundles.container("v1"), target, first);
    Path shadow = victimFile();
    Path certs = certs(configDir);
    // The container (uid 1337 inside a directory mounted read-write) swaps the seed for a link, a
    // hard link and a FIFO, and leaves a file of its own.
    Files.delete(certs.resolve("root-cert.pem"));
    Files.createSymbolicLink(certs.resolve("root-cert.pem"), shadow);
    chown(PROXY, certs.resolve("root-cert.pem"));
    Files.writeString(certs.resolve("key.pem"), "renewed by the agent");
    chown(PROXY, certs.resolve("key.pem"));
    Map<String, String> before = FileTree.of(fs);

    StageContext.Standalone second = run();
    transport().deliver(Bundles.container("v2"), target, second);
    launcher().launch(Bundles.container("v2"), target, second);

    assertThat(Files.isSymbolicLink(certs.resolve("root-cert.pem"))).isFalse();
    assertThat(certs.resolve("root-cert.pem")).hasContent("-----CERT v2-----");
    assertThat(certs.resolve("key.pem")).hasContent("renewed by the agent");
    FileTree.assertOnlyChanged(before, FileTree.of(fs), own(configDir));

    // A hard link to the victim and a FIFO under the seed's name: replaced, never opened.
    Files.delete(certs.resolve("root-cert.pem"));
    Files.createLink(certs.resolve("root-cert.pem"), shadow);
    Map<String, String> linked = FileTree.of(fs);
    StageContext.Standalone third = run();
    launcher().launch(Bundles.container("v2"), target, third);
    assertThat(shadow).hasContent("root:$6$precious:19000::::::");
    FileTree.assertOnlyChanged(linked, FileTree.of(fs), own(configDir));

    Files.delete(certs.resolve("root-cert.pem"));
    sh("mkfifo", certs.resolve("root-cert.pem").toString());
    StageContext.Standalone fourth = run();
    launcher().launch(Bundles.container("v2"), target, fourth);
    assertThat(Files.isRegularFile(certs.resolve("root-cert.pem"), LinkOption.NOFOLLOW_LINKS))
        .isTrue();
  }

  // ---- 2. Special files: a clear error, never a hang ----

  @ParameterizedTest(name = "a FIFO at the {0}")
  @ValueSource(strings = {"config directory", "state directory", "certificate directory"})
  void aFifoWhereVmonboardWorksEndsInAClearError(String where) throws Exception {
    Path configDir = fs.resolve("etc/istio-proxy");
    Files.createDirectories(configDir.getParent());
    Path fifo =
        switch (where) {
          case "config directory" -> configDir;
          case "state directory" -> state(configDir);
          default -> certs(configDir);
        };
    if (where.equals("certificate directory")) {
      transport().deliver(Bundles.container("v1"), target(configDir), run());
    }
    sh("mkfifo", fifo.toString());
    Map<String, String> before = FileTree.of(fs);

    StageContext.Standalone run = run();
    assertThatThrownBy(
            () -> {
              transport().deliver(Bundles.container("v2"), target(configDir), run);
              launcher().launch(Bundles.container("v2"), target(configDir), run);
            })
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("not a directory but p");

    FileTree.assertOnlyChanged(
        before, FileTree.of(fs), fifo.equals(certs(configDir)) ? bundleOnly(configDir) : List.of());
  }

  // ---- 3. Adoption: only what vmonboard recorded ----

  @Test
  void aKeptBundleOrStateDirectoryPlantedInASharedDirectoryIsNeverAdopted() throws Exception {
    Path shared = Files.createDirectories(fs.resolve("tmp"));
    sh("chmod", "1777", shared.toString());
    Path configDir = shared.resolve("istio-proxy");
    // The local user prepares a state directory whose kept bundle carries their CA and token.
    Path state = Files.createDirectories(state(configDir).resolve("previous"));
    Files.writeString(state.resolve(".vmonboard"), "0123456789abcdef01234567\n");
    Files.writeString(state.resolve("istio-ca.pem"), "-----ATTACKER CA-----\n");
    sh("chown", "-R", LOCAL_USER + ":" + LOCAL_USER, state(configDir).toString());
    sh("chmod", "0700", state(configDir).toString());
    Map<String, String> before = FileTree.of(fs);

    assertThatThrownBy(() -> transport().deliver(Bundles.container("v1"), target(configDir), run()))
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("belongs to uid " + LOCAL_USER);
    StageContext.Standalone rollback = run();
    assertThatThrownBy(() -> transport().restorePrevious(target(configDir), rollback))
        .hasMessageContaining("exit code 20");

    FileTree.assertOnlyChanged(before, FileTree.of(fs), List.of());
  }

  @Test
  void siblingsPlantedUnderTheNamesOfAnOlderVmonboardAreNeitherUsedNorRestored() throws Exception {
    Path shared = Files.createDirectories(fs.resolve("tmp"));
    sh("chmod", "1777", shared.toString());
    Path configDir = shared.resolve("istio-proxy");
    Path victim = victimFile();
    // The kept copy and temporary names an older vmonboard used next to the config directory.
    Path oldKept = Files.createDirectories(shared.resolve(".istio-proxy.vmonboard-previous"));
    Files.writeString(oldKept.resolve(".vmonboard"), "planted\n");
    Files.writeString(oldKept.resolve("istio-ca.pem"), "-----ATTACKER CA-----\n");
    Files.createSymbolicLink(shared.resolve(".istio-proxy.vmonboard-new-000000000000"), victim);
    sh("chown", "-R", "-h", LOCAL_USER + ":" + LOCAL_USER, oldKept.toString());
    chown(LOCAL_USER, shared.resolve(".istio-proxy.vmonboard-new-000000000000"));
    Map<String, String> before = FileTree.of(fs);

    transport().deliver(Bundles.container("v1"), target(configDir), run());
    StageContext.Standalone update = run();
    transport().deliver(Bundles.container("v2"), target(configDir), update);
    assertThat(transport().restorePrevious(target(configDir), update)).isTrue();

    assertThat(configDir.resolve("istio-ca.pem")).hasContent("-----CERT v1-----");
    FileTree.assertOnlyChanged(before, FileTree.of(fs), bundleOnly(configDir));
  }

  @Test
  void aMarkedDirectoryVmonboardDidNotRecordIsNeitherReplacedNorRemoved() throws Exception {
    Path configDir = fs.resolve("srv/istio-proxy");
    // A directory that looks like a bundle (its marker copied from one), made by an admin.
    Path elsewhere = fs.resolve("srv/other");
    transport().deliver(Bundles.container("v1"), target(elsewhere), run());
    sh("cp", "-a", elsewhere.toString(), configDir.toString());
    Files.writeString(configDir.resolve("keep.conf"), "precious");
    Map<String, String> before = FileTree.of(fs);

    assertThatThrownBy(() -> transport().deliver(Bundles.container("v2"), target(configDir), run()))
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("did not record as its own");
    assertThatThrownBy(() -> transport().remove(target(configDir), run()))
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("left " + configDir);

    // The delivery made the state directory, with no record of this directory: nothing else.
    FileTree.assertOnlyChanged(
        before, FileTree.of(fs), List.of(fs.relativize(state(configDir)).toString()));
    assertThat(configDir.resolve("keep.conf")).hasContent("precious");
  }

  // ---- 4. Removal: only what vmonboard made ----

  @Test
  void offboardingLeavesACertificateDirectoryItDidNotMakeAndSaysSo() throws Exception {
    Path configDir = fs.resolve("etc/istio-proxy");
    Files.createDirectories(certs(configDir));
    sh("chmod", "0700", certs(configDir).toString());
    Files.writeString(certs(configDir).resolve("ca.pem"), "the admin's own CA");
    Map<String, String> before = FileTree.of(fs);
    List<String> progress = new ArrayList<>();
    StageContext off = reporting(progress);

    launcher().remove(Bundles.container("v1"), target(configDir), off);
    transport().remove(target(configDir), off);

    FileTree.assertOnlyChanged(before, FileTree.of(fs), List.of());
    assertThat(progress).contains("left " + certs(configDir) + ": vmonboard did not make it");
  }

  @Test
  void offboardingRemovesWhatItMadeAndNothingElse() throws Exception {
    Path configDir = fs.resolve("etc/istio-proxy");
    victimFile();
    Map<String, String> before = FileTree.of(fs);
    StageContext.Standalone run = run();
    transport().deliver(Bundles.container("v1"), target(configDir), run);
    launcher().launch(Bundles.container("v1"), target(configDir), run);
    transport().discardPrevious(target(configDir), run);
    Files.writeString(certs(configDir).resolve("key.pem"), "renewed by the agent");

    StageContext.Standalone off = run();
    launcher().remove(Bundles.container("v1"), target(configDir), off);
    transport().remove(target(configDir), off);

    assertThat(FileTree.of(fs)).isEqualTo(before);
  }

  /** A context whose progress messages land in {@code progress}. */
  StageContext reporting(List<String> progress) {
    return TestVm.reporting(run(), progress);
  }

  // ---- 5. The network: a connection cut after the swap, three times ----

  @Test
  void threeCutsAfterTheSwapLeaveTheBundleThatRanBeforeKeptForTheRollback() throws Exception {
    Path configDir = fs.resolve("etc/istio-proxy");
    transport().deliver(Bundles.container("v1"), target(configDir), run());
    Path kept = state(configDir).resolve("previous");
    try (TcpRelay relay = TcpRelay.delaying(sshd.port(), 0)) {
      Path knownHosts = dir.resolve("known_hosts_relay");
      Files.writeString(
          knownHosts,
          sshd.knownHostsLine().replace(":" + sshd.port() + " ", ":" + relay.port() + " ") + "\n");
      SshConnector viaRelay =
          SshConnector.builder()
              .identity(key.identity())
              .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
              .build();
      Target target =
          Target.builder()
              .host("127.0.0.1")
              .port(relay.port())
              .configDir(configDir.toString())
              .build();
      Bundle v2 = Bundles.container("v2");
      StageContext.Standalone update = run();
      VmSession session = VmSession.of(viaRelay, target, update);
      for (int cut = 1; cut <= 3; cut++) {
        // Connected and idle: the next thing the VM sends is the delivery's answer, which is lost.
        session.run("connect", new RemoteScript().lines("say ok"), Duration.ofSeconds(10), update);
        relay.cutOnNextAnswer();
        assertThatThrownBy(() -> SshTransport.using(viaRelay).deliver(v2, target, update))
            .as("cut %d", cut)
            .isInstanceOf(StageException.class)
            .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue());
        assertThat(kept.resolve("sidecar.env")).as("after cut %d", cut).hasContent("VERSION=v1");
        assertThat(configDir.resolve("sidecar.env")).hasContent("VERSION=v2");
      }
      // The retry finds the swap done: it reports success and changes nothing.
      Map<String, String> afterCuts = FileTree.of(fs);
      SshTransport.using(viaRelay).deliver(v2, target, update);
      FileTree.assertOnlyChanged(afterCuts, FileTree.of(fs), List.of());
      assertThat(SshTransport.using(viaRelay).restorePrevious(target, update)).isTrue();
      assertThat(configDir.resolve("sidecar.env")).hasContent("VERSION=v1");
      assertThat(kept).doesNotExist();
    }
  }
}
