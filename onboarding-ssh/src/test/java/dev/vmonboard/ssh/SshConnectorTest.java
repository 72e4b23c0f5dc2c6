package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.ssh.TestKeys.Format;
import dev.vmonboard.ssh.TestKeys.Key;
import dev.vmonboard.ssh.TestKeys.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Logging in with keys and passwords, and the exec primitive, against an embedded VM. */
class SshConnectorTest {

  @TempDir static Path dir;
  static final Map<String, Key> plainKeys = new HashMap<>();
  static Key ed25519;
  static Key rsaPem;
  static Key encryptedOpenSsh;
  static Key encryptedPem;
  static Key stranger;
  static EmbeddedVm vm;
  static Path knownHosts;

  @BeforeAll
  static void startVm() throws Exception {
    for (String combo :
        List.of("ED25519/OPENSSH", "ECDSA/OPENSSH", "RSA/OPENSSH", "ECDSA/PEM", "RSA/PEM")) {
      String[] parts = combo.split("/");
      plainKeys.put(
          combo, TestKeys.generate(dir, Type.valueOf(parts[0]), Format.valueOf(parts[1]), null));
    }
    ed25519 = plainKeys.get("ED25519/OPENSSH");
    rsaPem = plainKeys.get("RSA/PEM");
    encryptedOpenSsh = TestKeys.generate(dir, Type.ED25519, Format.OPENSSH, "correct horse");
    encryptedPem = TestKeys.generate(dir, Type.RSA, Format.PEM, "battery staple");
    stranger =
        TestKeys.generate(
            Files.createDirectory(dir.resolve("stranger")), Type.ECDSA, Format.OPENSSH, null);
    EmbeddedVm.Builder builder = EmbeddedVm.builder().password("s3cret-pw");
    for (Key k : plainKeys.values()) {
      builder.authorizedKey(k.publicKeyLine());
    }
    builder.authorizedKey(encryptedOpenSsh.publicKeyLine());
    builder.authorizedKey(encryptedPem.publicKeyLine());
    vm = builder.start();
    knownHosts = dir.resolve("known_hosts");
    Files.writeString(knownHosts, vm.knownHostsLine() + "\n");
  }

  @AfterAll
  static void stopVm() {
    vm.close();
  }

  static SshConnector.Builder connector() {
    return SshConnector.builder()
        .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
        .connectTimeout(Duration.ofSeconds(5));
  }

  static String echo(SshConnector connector) throws Exception {
    try (SshConnection c = connector.connect(vm.host(), vm.port(), "tester")) {
      return c.exec("say hello", "echo hello", new byte[0], Duration.ofSeconds(5)).stdoutText();
    }
  }

  @ParameterizedTest(name = "{0} key in {1} format")
  @CsvSource({"ED25519, OPENSSH", "ECDSA, OPENSSH", "RSA, OPENSSH", "ECDSA, PEM", "RSA, PEM"})
  void logsInWithEveryKeyTypeAndFormat(Type type, Format format) throws Exception {
    Key key = plainKeys.get(type + "/" + format);
    assertThat(echo(connector().identity(key.identity()).build())).isEqualTo("hello\n");
  }

  @Test
  void asksForThePassphraseOnceAndLogsInWithAnEncryptedKey() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    SshConnector connector =
        connector()
            .identity(
                SshIdentity.fromFile(
                    encryptedOpenSsh.file(),
                    name -> {
                      asked.incrementAndGet();
                      assertThat(name).isEqualTo(encryptedOpenSsh.file().toString());
                      return "correct horse".toCharArray();
                    }))
            .build();
    assertThat(echo(connector)).isEqualTo("hello\n");
    assertThat(echo(connector)).isEqualTo("hello\n");
    assertThat(asked).hasValue(1);
  }

  @Test
  void logsInWithAnEncryptedPemKey() throws Exception {
    assertThat(echo(connector().identity(encryptedPem.identity("battery staple")).build()))
        .isEqualTo("hello\n");
  }

  @Test
  void refusesAWrongPassphraseWithoutRepeatingIt() {
    SshConnector connector = connector().identity(encryptedOpenSsh.identity("wrong guess")).build();
    assertThatThrownBy(() -> echo(connector))
        .isInstanceOf(SshException.class)
        .hasMessageContaining("wrong passphrase for the private key " + encryptedOpenSsh.file())
        .hasMessageNotContaining("wrong guess")
        .satisfies(e -> assertThat(((SshException) e).isTransient()).isFalse());
  }

  @Test
  void refusesAnEncryptedKeyWithoutPassphrase() {
    SshConnector connector = connector().identity(encryptedPem.identity()).build();
    assertThatThrownBy(() -> echo(connector))
        .hasMessageContaining("is encrypted and no passphrase was given");
  }

  @Test
  void reportsAKeyTheServerDoesNotAccept() {
    SshConnector connector = connector().identity(stranger.identity()).build();
    assertThatThrownBy(() -> echo(connector))
        .isInstanceOf(SshException.class)
        .hasMessageContaining("login to tester@127.0.0.1:" + vm.port() + " failed")
        .hasMessageContaining(stranger.file().toString())
        .satisfies(e -> assertThat(((SshException) e).isTransient()).isFalse());
  }

  @Test
  void reportsAFileThatIsNoKey() throws Exception {
    Path junk = Files.writeString(dir.resolve("not-a-key"), "hello");
    SshConnector connector = connector().identity(SshIdentity.fromFile(junk)).build();
    assertThatThrownBy(() -> echo(connector)).hasMessageContaining("is not a key this SDK reads");
  }

  @Test
  void logsInWithAPasswordFromTheCallback() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    SshConnector connector =
        connector()
            .password(
                (user, host) -> {
                  asked.incrementAndGet();
                  assertThat(user).isEqualTo("tester");
                  return "s3cret-pw".toCharArray();
                })
            .build();
    assertThat(echo(connector)).isEqualTo("hello\n");
    assertThat(asked).hasValue(1);
  }

  @Test
  void readsHostNamePortUserAndIdentityFromAnSshConfig() throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("ssh_config"),
            "Host backend-vm\n  HostName 127.0.0.1\n  Port "
                + vm.port()
                + "\n  User configured\n  IdentityFile "
                + rsaPem.file()
                + "\n");
    SshConnector connector = connector().sshConfig(config, name -> null).build();
    try (SshConnection c = connector.connect("backend-vm", 0, null)) {
      assertThat(c.where()).isEqualTo("configured@127.0.0.1:" + vm.port());
      assertThat(c.exec("echo", "echo $USER", new byte[0], Duration.ofSeconds(5)).exitCode())
          .isZero();
    }
  }

  @Test
  void execPassesStdinAndReturnsExitCodeOutputAndStderr() throws Exception {
    SshConnector connector = connector().identity(ed25519.identity()).build();
    byte[] binary = new byte[200_000];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    try (SshConnection c = connector.connect(vm.host(), vm.port(), null)) {
      ExecResult copy = c.exec("copy", "cat", binary, Duration.ofSeconds(10));
      assertThat(copy.exitCode()).isZero();
      assertThat(copy.stdout()).isEqualTo(binary);
      ExecResult failed =
          c.exec(
              "fail",
              "echo one >&2; echo two >&2; echo three >&2; echo four >&2; exit 7",
              new byte[0],
              Duration.ofSeconds(5));
      assertThat(failed.exitCode()).isEqualTo(7);
      assertThat(failed.lastErrorLines(2)).isEqualTo("three | four");
      assertThat(c.channelsOpened()).isEqualTo(2);
    }
  }

  @Test
  void abandonsACommandThatHangsAndKeepsTheConnectionUsable() throws Exception {
    SshConnector connector = connector().identity(ed25519.identity()).build();
    Path marker = vm.root().resolve("hang-finished");
    try (SshConnection c = connector.connect(vm.host(), vm.port(), null)) {
      long start = System.nanoTime();
      assertThatThrownBy(
              () ->
                  c.exec(
                      "wait for the proxy",
                      "echo started >&2; sleep 30; touch hang-finished",
                      new byte[0],
                      Duration.ofMillis(700)))
          .isInstanceOf(SshException.class)
          .hasMessageContaining("cannot wait for the proxy on ")
          .hasMessageContaining("no answer within 700 ms")
          .hasMessageContaining("stderr: started")
          .satisfies(e -> assertThat(((SshException) e).isTransient()).isTrue());
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(c.exec("echo", "echo still here", new byte[0], Duration.ofSeconds(5)).stdoutText())
          .isEqualTo("still here\n");
    }
    assertThat(marker).doesNotExist();
  }

  @Test
  void reportsARefusedConnectionAsTransient() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    SshConnector connector = connector().identity(ed25519.identity()).build();
    assertThatThrownBy(() -> connector.connect("127.0.0.1", closedPort, "tester"))
        .isInstanceOf(SshException.class)
        .hasMessageContaining("cannot connect to tester@127.0.0.1:" + closedPort)
        .satisfies(e -> assertThat(((SshException) e).isTransient()).isTrue());
  }

  @Test
  void neverPrintsKeyMaterial() throws Exception {
    byte[] pem = Files.readAllBytes(ed25519.file());
    SshIdentity inMemory = SshIdentity.fromPrivateKey("vault:vm-key", pem, name -> null);
    assertThat(inMemory.toString()).isEqualTo("SshIdentity[vault:vm-key]");
    SshConnector connector = connector().identity(inMemory).build();
    assertThat(connector.toString()).doesNotContain(new String(pem, StandardCharsets.US_ASCII));
    assertThat(echo(connector)).isEqualTo("hello\n");
  }
}
