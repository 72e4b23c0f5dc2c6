package dev.vmonboard.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Client keys (made by {@code ssh-keygen}) and known_hosts lines for tests. */
final class TestKeys {

  enum Type {
    ED25519(256),
    ECDSA(256),
    RSA(2048);

    final int bits;

    Type(int bits) {
      this.bits = bits;
    }
  }

  enum Format {
    /** {@code -----BEGIN OPENSSH PRIVATE KEY-----} (bcrypt KDF when encrypted). */
    OPENSSH,
    /** Traditional PEM ({@code BEGIN RSA/EC PRIVATE KEY}); not available for ed25519. */
    PEM
  }

  /** A private key file and its public key line. */
  record Key(Path file, String publicKeyLine) {
    SshIdentity identity() {
      return SshIdentity.fromFile(file);
    }

    SshIdentity identity(String passphrase) {
      return SshIdentity.fromFile(file, name -> passphrase.toCharArray());
    }
  }

  private TestKeys() {}

  /** Generates a key with OpenSSH's own {@code ssh-keygen}, as users make them. */
  static Key generate(Path dir, Type type, Format format, String passphrase) {
    Path file =
        dir.resolve(
            "id_"
                + type.name().toLowerCase()
                + "_"
                + format.name().toLowerCase()
                + (passphrase == null ? "" : "_encrypted"));
    List<String> command =
        new ArrayList<>(
            List.of(
                "ssh-keygen",
                "-q",
                "-t",
                type.name().toLowerCase(),
                "-b",
                Integer.toString(type.bits),
                "-a",
                "2",
                "-N",
                passphrase == null ? "" : passphrase,
                "-C",
                "test",
                "-f",
                file.toString()));
    if (format == Format.PEM) {
      command.addAll(List.of("-m", "PEM"));
    }
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .redirectErrorStream(true)
              .start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("ssh-keygen failed: " + output);
      }
      return new Key(file, Files.readString(Path.of(file + ".pub")).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Key ed25519(Path dir) {
    return generate(dir, Type.ED25519, Format.OPENSSH, null);
  }

  /** A hashed known_hosts line, as {@code ssh-keygen -H} writes it. */
  static String hashed(String knownHostsLine) {
    int space = knownHostsLine.indexOf(' ');
    String host = knownHostsLine.substring(0, space);
    try {
      byte[] salt = new byte[20];
      new java.security.SecureRandom().nextBytes(salt);
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(salt, "HmacSHA1"));
      byte[] hash = mac.doFinal(host.getBytes(StandardCharsets.US_ASCII));
      Base64.Encoder b64 = Base64.getEncoder();
      return "|1|"
          + b64.encodeToString(salt)
          + "|"
          + b64.encodeToString(hash)
          + knownHostsLine.substring(space);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
