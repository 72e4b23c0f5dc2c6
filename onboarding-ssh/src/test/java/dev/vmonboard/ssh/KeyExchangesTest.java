package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * JSch's per-connection check of key exchanges, done once per JVM instead; Bouncy Castle's
 * Curve25519 when present.
 */
class KeyExchangesTest {

  @Test
  void sessionsSkipTheCheckAndKeepJschsOrderLessWhatCannotWork() throws Exception {
    Session session = new JSch().getSession("user", "localhost", 22);
    KeyExchanges.configure(session);
    assertThat(session.getConfig("CheckKexes")).isEmpty();
    List<String> kept = Arrays.asList(session.getConfig("kex").split(","));
    assertThat(kept).contains("curve25519-sha256", "ecdh-sha2-nistp256");
    assertThat(Arrays.asList(JSch.getConfig("kex").split(","))).containsSubsequence(kept);
  }

  @Test
  void sessionsUseBouncyCastlesCurve25519WhenItIsThereAndJschsDefaultsStayAsTheyWere()
      throws Exception {
    Session session = new JSch().getSession("user", "localhost", 22);
    KeyExchanges.configure(session);
    // Bouncy Castle is on this module's test class path (Apache MINA SSHD uses it too).
    assertThat(session.getConfig("ssh-ed25519")).isEqualTo("com.jcraft.jsch.bc.SignatureEd25519");
    assertThat(session.getConfig("xdh")).isEqualTo("com.jcraft.jsch.bc.XDH");
    assertThat(JSch.getConfig("ssh-ed25519"))
        .as("the JVM-wide default is left alone")
        .contains(".jce.");
  }
}
