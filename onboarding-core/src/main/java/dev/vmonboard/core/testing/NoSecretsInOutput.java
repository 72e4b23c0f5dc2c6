package dev.vmonboard.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit extension that fails every test (and every test class, for its {@code @BeforeAll} and
 * {@code @AfterAll}) whose output holds the {@link Canary} or a {@linkplain Canary#watch watched}
 * secret: so a leak fails the build, whichever test causes it.
 *
 * <p>It reads everything written to {@code System.out} and {@code System.err} (command-line output,
 * slf4j-simple's default target, stack traces printed), every {@code java.util.logging} record,
 * and, when {@code simplelogger.properties} on the class path sends SLF4J lines to a file ({@code
 * org.slf4j.simpleLogger.logFile}), that file. Events, results and failures reach it as far as the
 * code under test logs or prints them.
 *
 * <p>Register it for a whole test run with JUnit's auto-detection: a file {@code
 * META-INF/services/org.junit.jupiter.api.extension.Extension} naming this class, and {@code
 * junit.jupiter.extensions.autodetection.enabled=true} in {@code junit-platform.properties}; or per
 * class with {@code @ExtendWith(NoSecretsInOutput.class)}.
 */
public final class NoSecretsInOutput
    implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  private static final Capture CAPTURE = new Capture(logFile());

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

  /**
   * The secrets written to any output since the last check, each with where it was seen; the next
   * check starts after them. For tests of this check itself.
   */
  public static List<String> leaksSinceLastCheck() {
    return CAPTURE.takeLeaks();
  }

  /** The file slf4j-simple writes to, if {@code simplelogger.properties} names one. */
  public static Optional<Path> logFile() {
    String file = System.getProperty("org.slf4j.simpleLogger.logFile");
    if (file == null) {
      Properties properties = new Properties();
      try (InputStream in =
          Thread.currentThread()
              .getContextClassLoader()
              .getResourceAsStream("simplelogger.properties")) {
        if (in != null) {
          properties.load(in);
        }
      } catch (IOException e) {
        // No settings: slf4j-simple writes to System.err, which is read anyway.
      }
      file = properties.getProperty("org.slf4j.simpleLogger.logFile");
    }
    return file == null || file.equals("System.err") || file.equals("System.out")
        ? Optional.empty()
        : Optional.of(Path.of(file));
  }

  /** The output streams, the JUL root handler and the log file, read since the last look. */
  private static final class Capture {
    private final Optional<Path> logFile;
    private final ByteArrayOutputStream streams = new ByteArrayOutputStream();
    private final StringBuilder julRecords = new StringBuilder();
    private long logOffset;

    Capture(Optional<Path> logFile) {
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
      Canary.found(printed).forEach(leak -> leaks.add("System.out/err: " + leak));
      String jul;
      synchronized (julRecords) {
        jul = julRecords.toString();
        julRecords.setLength(0);
      }
      Canary.found(jul).forEach(leak -> leaks.add("java.util.logging: " + leak));
      String logged = readLogFrom(logOffset);
      logOffset += logged.getBytes(StandardCharsets.UTF_8).length;
      Canary.found(logged).forEach(leak -> leaks.add(logFile.orElseThrow() + ": " + leak));
      return leaks;
    }

    private String readLogFrom(long offset) {
      if (logFile.isEmpty() || !Files.exists(logFile.get())) {
        return "";
      }
      try (RandomAccessFile file = new RandomAccessFile(logFile.get().toFile(), "r")) {
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
        throw new AssertionError("cannot read " + logFile.get() + " to check it for secrets", e);
      }
    }

    private static long size(Optional<Path> file) {
      try {
        return file.isPresent() && Files.exists(file.get()) ? Files.size(file.get()) : 0;
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
