package dev.vmonboard.examples.support;

import dev.vmonboard.ssh.SshIdentity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;

/**
 * A throwaway ed25519 client key made in this JVM, so that the demo and the tests need no {@code
 * ssh-keygen} and no key of the user's. The private key stays in memory.
 */
public final class DemoKeys {

  private final byte[] privateKey;
  private final String publicKeyLine;

  private DemoKeys(byte[] privateKey, String publicKeyLine) {
    this.privateKey = privateKey;
    this.publicKeyLine = publicKeyLine;
  }

  /** A fresh ed25519 key pair. */
  public static DemoKeys generate() {
    try {
      KeyPair pair = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "vmonboard-demo", null, out);
      return new DemoKeys(
          out.toByteArray(), PublicKeyEntry.toString(pair.getPublic()) + " vmonboard-demo");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an ed25519 key (is bcprov missing?)", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The private key, in OpenSSH's own format; made in this JVM, never written to disk here. */
  public byte[] privateKeyOpenSsh() {
    return privateKey.clone();
  }

  /** The public key as an {@code authorized_keys} line. */
  public String publicKeyLine() {
    return publicKeyLine;
  }

  /** The key as the SDK takes it. */
  public SshIdentity identity() {
    return SshIdentity.fromPrivateKey("the demo's ed25519 key", privateKey, name -> null);
  }
}
