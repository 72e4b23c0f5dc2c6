package dev.vmonboard.ssh;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/** SSH public key blobs: their type name and their fingerprint as OpenSSH prints it. */
final class KeyBlobs {

  private KeyBlobs() {}

  /** {@code SHA256:} and the unpadded base64 of the blob's SHA-256, as {@code ssh-keygen -l}. */
  static String fingerprint(byte[] blob) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** The key type the blob starts with, such as {@code ssh-ed25519}. */
  static String type(byte[] blob) {
    if (blob.length < 4) {
      return "unknown";
    }
    int length = ByteBuffer.wrap(blob, 0, 4).getInt();
    if (length <= 0 || length > blob.length - 4) {
      return "unknown";
    }
    return new String(blob, 4, length, StandardCharsets.US_ASCII);
  }
}
