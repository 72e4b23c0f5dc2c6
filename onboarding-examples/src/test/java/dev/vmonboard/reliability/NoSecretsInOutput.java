package dev.vmonboard.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails every test (and every test class, for its {@code @BeforeAll}/{@code @AfterAll}) of this
 * module whose output holds a secret that {@link SecretWatch} knows: registered for the whole test
 * run by JUnit's extension auto-detection ({@code junit-platform.properties} and {@code
 * META-INF/services}), so that a leak fails the build whichever test causes it.
 *
 * <p>What it reads: every SLF4J log line at every level down to DEBUG for {@code dev.vmonboard}
 * (slf4j-simple writes them to {@value #LOG_FILE}, see {@code simplelogger.properties}), everything
 * written to {@code System.out} and {@code System.err} (command-line output, stack traces printed),
 * and every {@code java.util.logging} record (fabric8's mock server). Events, results, exceptions
 * and plans reach it through the log: the rig's listener logs every event.
 */
public final class NoSecretsInOutput
    implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  /** Where slf4j-simple writes in this module's tests (relative to the module directory). */
  static final String LOG_FILE = "target/reliability-tests.log";

  private static final Capture CAPTURE = new Capture(Path.of(LOG_FILE));

  /** Used by JUnit's auto-detection. */
  public NoSecretsInOutput() {}

  @Override
  public void beforeAll(ExtensionContext context) {
    check("output before " + context.getDisplayName());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check("output of " + context.getUniqueId());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check("output of the class set-up and tear-down of " + context.getDisplayName());
  }

  private static void check(String where) {
    List<String> found = leaksSinceLastCheck();
    if (!found.isEmpty()) {
      throw new AssertionError("a secret leaked into the " + where + ": " + found);
    }
  }

  /** The secrets written to any output since the last check (each with where it was seen). */
  static List<String> leaksSinceLastCheck() {
    return CAPTURE.takeLeaks();
  }

  /** The output streams, the JUL root handler and the log file, read since the last look. */
  private static final class Capture {
    private final Path logFile;
    private final ByteArrayOutputStream streams = new ByteArrayOutputStream();
    private final StringBuilder julRecords = new StringBuilder();
    private long logOffset;

    Capture(Path logFile) {
      this.logFile = logFile;
      System.setOut(new PrintStream(new Tee(System.out, streams), true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(new Tee(System.err, streams), true, StandardCharsets.UTF_8));
      java.util.logging.Logger.getLogger("")
          .addHandler(
              new Handler() {
                private final SimpleFormatter format = new SimpleFormatter();

                @Override
                public void publish(LogRecord record) {
                  synchronized (julRecords) {
                    julRecords.append(format.format(record));
                  }
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
              });
      // slf4j-simple truncates its file when it starts: start it first, then read from there on.
      org.slf4j.LoggerFactory.getLogger(NoSecretsInOutput.class).debug("watching output");
      logOffset = size(logFile);
    }

    synchronized List<String> takeLeaks() {
      List<String> leaks = new ArrayList<>();
      String printed;
      synchronized (streams) {
        printed = streams.toString(StandardCharsets.UTF_8);
        streams.reset();
      }
      SecretWatch.found(printed).forEach(leak -> leaks.add("System.out/err: " + leak));
      String jul;
      synchronized (julRecords) {
        jul = julRecords.toString();
        julRecords.setLength(0);
      }
      SecretWatch.found(jul).forEach(leak -> leaks.add("java.util.logging: " + leak));
      String logged = readLogFrom(logOffset);
      logOffset += logged.getBytes(StandardCharsets.UTF_8).length;
      SecretWatch.found(logged).forEach(leak -> leaks.add(LOG_FILE + ": " + leak));
      return leaks;
    }

    private String readLogFrom(long offset) {
      if (!Files.exists(logFile)) {
        return "";
      }
      try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
        long length = file.length();
        if (length < offset) {
          // The file was started anew: read it from its start.
          logOffset = 0;
          return readLogFrom(0);
        }
        if (length == offset) {
          return "";
        }
        byte[] bytes = new byte[Math.toIntExact(length - offset)];
        file.seek(offset);
        file.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new AssertionError("cannot read " + logFile + " to check it for secrets", e);
      }
    }

    private static long size(Path file) {
      try {
        return Files.exists(file) ? Files.size(file) : 0;
      } catch (IOException e) {
        return 0;
      }
    }
  }

  /** Writes to the original stream and to the capture. */
  private static final class Tee extends OutputStream {
    private final OutputStream original;
    private final ByteArrayOutputStream copy;

    Tee(OutputStream original, ByteArrayOutputStream copy) {
      this.original = original;
      this.copy = copy;
    }

    @Override
    public void write(int b) throws IOException {
      original.write(b);
      synchronized (copy) {
        copy.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      original.write(b, off, len);
      synchronized (copy) {
        copy.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      original.flush();
    }
  }
}
