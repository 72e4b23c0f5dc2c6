package dev.vmonboard.k8s.controller;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Stable numbers derived from an entry's key ({@code namespace/name}) by SHA-256, the same on every
 * replica, JVM and release: its shard, so that replicas agree on who works it, and a fraction in
 * [0, 1), independent of the shard, that places its token refresh in the refresh window, so that
 * tokens issued together are not all replaced together.
 *
 * @param shard 0 to the shard count - 1
 * @param fraction 0 (inclusive) to 1 (exclusive)
 */
record EntryHash(int shard, double fraction) {

  /** The numbers of {@code key} with {@code shards} shards. */
  static EntryHash of(String key, int shards) {
    ByteBuffer digest = ByteBuffer.wrap(sha256(key));
    int shard = (int) Long.remainderUnsigned(digest.getLong(0), shards);
    double fraction = (digest.getLong(8) >>> 11) / (double) (1L << 53);
    return new EntryHash(shard, fraction);
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
