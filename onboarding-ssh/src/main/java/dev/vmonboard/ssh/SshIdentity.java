package dev.vmonboard.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A private key to log in with: a file or bytes in OpenSSH ({@code -----BEGIN OPENSSH PRIVATE
 * KEY-----}) or PEM format, ed25519, ECDSA or RSA, optionally encrypted.
 *
 * <p>The passphrase of an encrypted key comes from a {@link PassphraseCallback} when the key is
 * first used. {@link #toString()} names the key, never its content.
 */
public final class SshIdentity {

  private static final PassphraseCallback NO_PASSPHRASE = name -> null;

  private final String name;
  private final Path file;
  private final byte[] privateKey;
  private final PassphraseCallback passphrase;

  private SshIdentity(String name, Path file, byte[] privateKey, PassphraseCallback passphrase) {
    this.name = name;
    this.file = file;
    this.privateKey = privateKey;
    this.passphrase = Objects.requireNonNull(passphrase, "passphrase callback");
  }

  /** An unencrypted key file (such as {@code ~/.ssh/id_ed25519} or an EC2 {@code .pem}). */
  public static SshIdentity fromFile(Path file) {
    return fromFile(file, NO_PASSPHRASE);
  }

  /** A key file, encrypted or not; the callback is asked for the passphrase if it is. */
  public static SshIdentity fromFile(Path file, PassphraseCallback passphrase) {
    return new SshIdentity(file.toString(), file, null, passphrase);
  }

  /**
   * A key held in memory (for example read from a secret store); {@code name} appears in errors and
   * in the passphrase callback.
   */
  public static SshIdentity fromPrivateKey(
      String name, byte[] privateKey, PassphraseCallback passphrase) {
    return new SshIdentity(
        Objects.requireNonNull(name, "name"), null, privateKey.clone(), passphrase);
  }

  /** The key's name: its file or the name it was given. */
  public String name() {
    return name;
  }

  byte[] readPrivateKey() throws IOException {
    return file != null ? Files.readAllBytes(file) : privateKey.clone();
  }

  PassphraseCallback passphrase() {
    return passphrase;
  }

  @Override
  public String toString() {
    return "SshIdentity[" + name + "]";
  }
}
