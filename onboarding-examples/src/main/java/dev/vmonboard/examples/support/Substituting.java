package dev.vmonboard.examples.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An output stream that writes whole lines, with long temporary paths replaced by short names
 * announced beforehand (as a shell variable would be): {@code /tmp/vmonboard-vm-123/fs} becomes
 * {@code $BACKEND_VM}. Thread-safe.
 */
public final class Substituting extends OutputStream {

  private final OutputStream target;
  private final Map<String, String> replacements = new LinkedHashMap<>();
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();

  public Substituting(OutputStream target) {
    this.target = target;
  }

  /** From now on, writes {@code name} wherever {@code text} appears. */
  public synchronized void replace(String text, String name) {
    replacements.put(text, name);
  }

  @Override
  public synchronized void write(int b) throws IOException {
    line.write(b);
    if (b == '\n') {
      flushLine();
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    flushLine();
    target.flush();
  }

  @Override
  public synchronized void close() throws IOException {
    flush();
  }

  private void flushLine() throws IOException {
    if (line.size() == 0) {
      return;
    }
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    for (Map.Entry<String, String> replacement : replacements.entrySet()) {
      text = text.replace(replacement.getKey(), replacement.getValue());
    }
    target.write(text.getBytes(StandardCharsets.UTF_8));
  }
}
