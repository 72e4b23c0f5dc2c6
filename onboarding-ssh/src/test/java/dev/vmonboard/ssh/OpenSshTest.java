package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TransportContract.DeliveredFile;
import dev.vmonboard.ssh.TestKeys.Format;
import dev.vmonboard.ssh.TestKeys.Key;
import dev.vmonboard.ssh.TestKeys.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The same connector, transport and launcher against a real OpenSSH server started by the test.
 * Skipped when sshd is not installed, except under CI, where that fails.
 */
class OpenSshTest {

  @TempDir static Path dir;
  static OpenSshServer sshd;
  static Path knownHosts;
  static final Map<String, Key> keys = new java.util.HashMap<>();
  static Key encrypted;
  static Key stranger;

  @BeforeAll
  static void start() throws Exception {
    OpenSshServer.requireSshd();
    List<String> authorized = new ArrayList<>();
    for (String combo :
        List.of("ED25519/OPENSSH", "ECDSA/OPENSSH", "RSA/OPENSSH", "ECDSA/PEM", "RSA/PEM")) {
      String[] p = combo.split("/");
      Key k = TestKeys.generate(dir, Type.valueOf(p[0]), Format.valueOf(p[1]), null);
      keys.put(combo, k);
      authorized.add(k.publicKeyLine());
    }
    encrypted = TestKeys.generate(dir, Type.ED25519, Format.OPENSSH, "open sesame");
    authorized.add(encrypted.publicKeyLine());
    stranger =
        TestKeys.generate(
            Files.createDirectory(dir.resolve("stranger")), Type.ED25519, Format.OPENSSH, null);
    sshd = OpenSshServer.start(Files.createDirectory(dir.resolve("sshd")), authorized);
    knownHosts = Files.writeString(dir.resolve("known_hosts"), sshd.knownHostsLine() + "\n");
  }

  @AfterAll
  static void stop() {
    if (sshd != null) {
      sshd.close();
    }
  }

  static SshConnector connector(SshIdentity identity, HostKeyPolicy policy) {
    return SshConnector.builder()
        .identity(identity)
        .hostKeyPolicy(policy)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** A connector with the ed25519 key that trusts the server by the known_hosts file. */
  static SshConnector trustingConnector() {
    return connector(keys.get("ED25519/OPENSSH").identity(), HostKeyPolicy.knownHosts(knownHosts));
  }

  /** The server as a VM with {@code configDir}. */
  static Target target(Path configDir) {
    return Target.builder()
        .host("127.0.0.1")
        .port(sshd.port())
        .configDir(configDir.toString())
        .build();
  }

  static ContainerProxyLauncher launcher(SshConnector connector) {
    return ContainerProxyLauncher.builder(connector)
        .readinessTimeout(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .build();
  }

  static String whoami(SshConnector connector) throws Exception {
    try (SshConnection c = connector.connect("127.0.0.1", sshd.port(), null)) {
      return c.exec("echo", "echo ok", new byte[0], Duration.ofSeconds(10)).stdoutText();
    }
  }

  @ParameterizedTest(name = "{0} key in {1} format")
  @CsvSource({"ED25519, OPENSSH", "ECDSA, OPENSSH", "RSA, OPENSSH", "ECDSA, PEM", "RSA, PEM"})
  void logsInWithEveryKeyTypeAndFormat(String type, String format) throws Exception {
    Key key = keys.get(type + "/" + format);
    assertThat(whoami(connector(key.identity(), HostKeyPolicy.knownHosts(knownHosts))))
        .isEqualTo("ok\n");
  }

  @Test
  void logsInWithAPassphraseAndRefusesAWrongOne() throws Exception {
    assertThat(
            whoami(
                connector(encrypted.identity("open sesame"), HostKeyPolicy.knownHosts(knownHosts))))
        .isEqualTo("ok\n");
    assertThatThrownBy(
            () ->
                whoami(
                    connector(encrypted.identity("guess"), HostKeyPolicy.knownHosts(knownHosts))))
        .hasMessageContaining("wrong passphrase");
  }

  @Test
  void refusesAWrongKey() {
    assertThatThrownBy(
            () -> whoami(connector(stranger.identity(), HostKeyPolicy.knownHosts(knownHosts))))
        .isInstanceOf(SshException.class)
        .hasMessageContaining("accepted none of the keys");
  }

  @Test
  void checksHostKeysAsOpenSshWritesThem() throws Exception {
    Key key = keys.get("ED25519/OPENSSH");
    Path hashed = Files.copy(knownHosts, dir.resolve("known_hosts_hashed"));
    Process p =
        new ProcessBuilder("ssh-keygen", "-H", "-f", hashed.toString())
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isZero();
    assertThat(Files.readString(hashed)).startsWith("|1|");
    assertThat(whoami(connector(key.identity(), HostKeyPolicy.knownHosts(hashed))))
        .isEqualTo("ok\n");

    Path empty = Files.writeString(dir.resolve("known_hosts_empty"), "");
    assertThatThrownBy(() -> whoami(connector(key.identity(), HostKeyPolicy.knownHosts(empty))))
        .hasMessageContaining("is unknown");

    Path tofu = dir.resolve("known_hosts_tofu");
    assertThat(whoami(connector(key.identity(), HostKeyPolicy.trustOnFirstUse(tofu))))
        .isEqualTo("ok\n");
    assertThat(Files.readString(tofu)).isEqualTo(sshd.knownHostsLine() + "\n");

    String otherKey =
        "[127.0.0.1]:"
            + sshd.port()
            + " "
            + String.join(" ", java.util.Arrays.copyOf(key.publicKeyLine().split(" "), 2));
    Path changed = Files.writeString(dir.resolve("known_hosts_changed"), otherKey + "\n");
    assertThatThrownBy(() -> whoami(connector(key.identity(), HostKeyPolicy.knownHosts(changed))))
        .hasMessageContaining("has CHANGED");
  }

  @Test
  void deliversLaunchesAndOffboardsInOneConnectionAndOneChannel() throws Exception {
    SshConnector connector = trustingConnector();
    Path configDir = dir.resolve("vm-fs/etc/istio proxy; $(touch pwned)");
    Target target = target(configDir);
    Bundle bundle = Bundles.container("v1");
    ContainerProxyLauncher launcher = launcher(connector);
    try (StageContext.Standalone run = TestVm.context(Stage.DELIVER)) {
      SshTransport.using(connector).deliver(bundle, target, run);
      ProxyStatus status = launcher.launch(bundle, target, run);
      assertThat(status.isReady()).isTrue();
      VmSession session = VmSession.of(connector, target, run);
      assertThat(session.connectionsOpened()).isEqualTo(1);
      assertThat(session.channelsOpened()).isEqualTo(1);
    }
    Map<String, DeliveredFile> files =
        SshTransportContractTest.readDirectory(configDir).orElseThrow();
    assertThat(files.get(Bundles.TOKEN).mode()).isEqualTo(0600);
    assertThat(files.get(Bundles.TOKEN).text()).startsWith(Canary.SECRET);
    Path certs = Path.of(configDir + Bundles.CERTS_SUFFIX);
    assertThat(TestVm.mode(certs)).isEqualTo(0700);
    assertThat(certs.resolve("root-cert.pem")).hasContent("-----CERT v1-----");
    assertThat(sshd.standIns().containers()).containsEntry("istio-proxy", "running");
    try (StageContext.Standalone off = TestVm.context(Stage.STOP_PROXY)) {
      launcher.remove(bundle, target, off);
      SshTransport.using(connector).remove(target, off);
    }
    assertThat(configDir).doesNotExist();
    assertThat(certs).doesNotExist();
    assertThat(sshd.standIns().containers()).isEmpty();
    assertThat(Path.of(System.getProperty("user.home"), "pwned")).doesNotExist();
  }

  @Test
  void rollsBackAnUpdateWhoseContainerDiesToThePreviousBundleAndContainer() throws Exception {
    SshConnector connector = trustingConnector();
    Path configDir = dir.resolve("vm-fs/srv/istio 'rollback'; $(touch pwned)");
    Target target = target(configDir);
    // A name of its own: the stand-ins' controls outlive this test on the shared server.
    String name = "proxy-rollback";
    Bundle v1 = Bundles.bundle("v1", Bundles.containerLaunch().containerName(name).build());
    Bundle v2 = Bundles.bundle("v2", Bundles.containerLaunch().containerName(name).build());
    SshTransport transport = SshTransport.using(connector);
    ContainerProxyLauncher launcher = launcher(connector);
    try (StageContext.Standalone run = TestVm.context(Stage.LAUNCH)) {
      transport.deliver(v1, target, run);
      launcher.launch(v1, target, run);
      sshd.standIns().containerExitsAtOnce(name);
      transport.deliver(v2, target, run);
      assertThatThrownBy(() -> launcher.launch(v2, target, run))
          .hasMessageContaining("exit code 34");

      assertThat(transport.restorePrevious(target, run)).isTrue();
      assertThat(launcher.restorePrevious(v2, target, run)).isTrue();
    }
    Map<String, DeliveredFile> files =
        SshTransportContractTest.readDirectory(configDir).orElseThrow();
    assertThat(files.get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    assertThat(files.get(Bundles.TOKEN).mode()).isEqualTo(0600);
    assertThat(sshd.standIns().containers())
        .containsEntry(name, "running")
        .doesNotContainKey(name + "-vmonboard-previous");
    try (Stream<Path> siblings = Files.list(configDir.getParent())) {
      assertThat(siblings.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder(
              configDir.getFileName().toString(),
              configDir.getFileName() + Bundles.CERTS_SUFFIX,
              "." + configDir.getFileName() + ".vmonboard");
    }
    try (StageContext.Standalone off = TestVm.context(Stage.STOP_PROXY)) {
      launcher.remove(v1, target, off);
      transport.remove(target, off);
    }
    assertThat(sshd.standIns().containers()).doesNotContainKey(name);
    assertThat(Path.of(System.getProperty("user.home"), "pwned")).doesNotExist();
  }
}
