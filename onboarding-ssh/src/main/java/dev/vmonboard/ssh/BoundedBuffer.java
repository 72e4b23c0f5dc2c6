package dev.vmonboard.ssh;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Bytes a remote command wrote, up to a limit: the first ones (standard output) or the last ones
 * (standard error, whose end says what went wrong). Not thread-safe: its owner synchronises.
 */
final class BoundedBuffer {

  private final int limit;
  private final boolean keepTail;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private boolean truncated;

  BoundedBuffer(int limit, boolean keepTail) {
    this.limit = limit;
    this.keepTail = keepTail;
  }

  void append(byte[] b, int off, int len) {
    if (buffer.size() + len <= limit) {
      buffer.write(b, off, len);
      return;
    }
    truncated = true;
    if (keepTail) {
      byte[] all = buffer.toByteArray();
      buffer.reset();
      int keep = Math.max(0, limit - len);
      buffer.write(all, Math.max(0, all.length - keep), Math.min(keep, all.length));
      buffer.write(b, off + Math.max(0, len - limit), Math.min(len, limit));
    } else {
      buffer.write(b, off, Math.max(0, limit - buffer.size()));
    }
  }

  /** Forgets the first {@code count} bytes. */
  void dropFirst(int count) {
    byte[] all = buffer.toByteArray();
    buffer.reset();
    buffer.write(all, count, all.length - count);
  }

  byte[] bytes() {
    return buffer.toByteArray();
  }

  /** The bytes as UTF-8, starting with {@code ...} when the beginning was dropped. */
  String text() {
    String s = buffer.toString(StandardCharsets.UTF_8);
    return truncated && keepTail ? "..." + s : s;
  }
}
