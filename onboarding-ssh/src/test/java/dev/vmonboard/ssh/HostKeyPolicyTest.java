package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host key policies against two embedded VMs (one stands in for an impostor). */
class HostKeyPolicyTest {

  @TempDir static Path dir;
  static TestKeys.Key key;
  static EmbeddedVm vm;
  static EmbeddedVm impostor;

  @BeforeAll
  static void start() throws Exception {
    key = TestKeys.ed25519(dir);
    vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start();
    impostor = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start();
  }

  @AfterAll
  static void stop() {
    vm.close();
    impostor.close();
  }

  static String connect(HostKeyPolicy policy) throws Exception {
    SshConnector connector =
        SshConnector.builder()
            .identity(key.identity())
            .hostKeyPolicy(policy)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    try (SshConnection c = connector.connect(vm.host(), vm.port(), "tester")) {
      return c.exec("echo", "echo ok", new byte[0], Duration.ofSeconds(5)).stdoutText();
    }
  }

  static Path file(String name, String... lines) throws Exception {
    return Files.write(dir.resolve(name), java.util.List.of(lines));
  }

  /** The VM's port with the impostor's key: what a man in the middle presents. */
  static String changedLine() {
    return impostor.knownHostsLine().replace(":" + impostor.port() + " ", ":" + vm.port() + " ");
  }

  @Test
  void acceptsAKnownHostWithPortEntry() throws Exception {
    assertThat(connect(HostKeyPolicy.knownHosts(file("plain", vm.knownHostsLine()))))
        .isEqualTo("ok\n");
  }

  @Test
  void acceptsAHashedEntry() throws Exception {
    Path hashed = file("hashed", "# comment", TestKeys.hashed(vm.knownHostsLine()));
    assertThat(Files.readString(hashed)).doesNotContain("127.0.0.1");
    assertThat(connect(HostKeyPolicy.knownHosts(hashed))).isEqualTo("ok\n");
  }

  @Test
  void refusesAnUnknownHostWithItsFingerprint() throws Exception {
    Path other = file("other", impostor.knownHostsLine());
    assertThatThrownBy(() -> connect(HostKeyPolicy.knownHosts(other)))
        .isInstanceOf(SshException.class)
        .hasMessageContaining("[127.0.0.1]:" + vm.port() + " is unknown")
        .hasMessageContaining("presented " + vm.hostKeyFingerprint())
        .hasMessageContaining("trustOnFirstUse")
        .satisfies(e -> assertThat(((SshException) e).isTransient()).isFalse());
  }

  @Test
  void refusesAChangedKeyWithBothFingerprints() throws Exception {
    Path changed = file("changed", changedLine());
    for (HostKeyPolicy policy :
        new HostKeyPolicy[] {
          HostKeyPolicy.knownHosts(changed), HostKeyPolicy.trustOnFirstUse(changed)
        }) {
      assertThatThrownBy(() -> connect(policy))
          .isInstanceOf(SshException.class)
          .hasMessageContaining("has CHANGED")
          .hasMessageContaining("expected " + impostor.hostKeyFingerprint())
          .hasMessageContaining("presented " + vm.hostKeyFingerprint())
          .hasMessageContaining("ssh-keygen -R");
    }
    assertThat(Files.readAllLines(changed)).containsExactly(changedLine());
  }

  @Test
  void refusesAChangedKeyRecordedHashed() throws Exception {
    Path changed = file("changed-hashed", TestKeys.hashed(changedLine()));
    assertThatThrownBy(() -> connect(HostKeyPolicy.knownHosts(changed)))
        .hasMessageContaining("has CHANGED")
        .hasMessageContaining("expected " + impostor.hostKeyFingerprint());
  }

  @Test
  void trustOnFirstUseRecordsTheKeyOwnerOnlyAndChecksItNextTime() throws Exception {
    Path tofu = dir.resolve("tofu/known_hosts");
    assertThat(connect(HostKeyPolicy.trustOnFirstUse(tofu))).isEqualTo("ok\n");
    assertThat(Files.readAllLines(tofu)).containsExactly(vm.knownHostsLine());
    assertThat(TestVm.mode(tofu)).isEqualTo(0600);
    assertThat(connect(HostKeyPolicy.trustOnFirstUse(tofu))).isEqualTo("ok\n");
    assertThat(connect(HostKeyPolicy.knownHosts(tofu))).isEqualTo("ok\n");
    assertThat(Files.readAllLines(tofu)).hasSize(1);
  }

  @Test
  void insecureAcceptAnyConnectsToAnUnknownHost() throws Exception {
    assertThat(HostKeyPolicy.insecureAcceptAny().toString()).isEqualTo("InsecureAcceptAny");
    assertThat(connect(HostKeyPolicy.insecureAcceptAny())).isEqualTo("ok\n");
  }

  @Test
  void theDefaultIsStrictKnownHosts() {
    assertThat(HostKeyPolicy.defaultKnownHosts().toString())
        .startsWith("KnownHosts[")
        .endsWith(".ssh/known_hosts]");
  }
}
