package dev.vmonboard.ssh;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code main} of this module's test classes run in a JVM of its own, talked to by lines: the
 * benchmark keeps servers and relays out of the process whose CPU, threads and heap it measures.
 * The child prints a first line when ready, answers one line per request line, and ends when its
 * input ends.
 */
final class Forked implements AutoCloseable {

  private final Process process;
  private final BufferedReader out;
  private final PrintWriter in;
  private final String ready;

  private Forked(Process process) throws IOException {
    this.process = process;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    this.ready = out.readLine();
    if (ready == null) {
      throw new IllegalStateException("the forked JVM ended before it was ready");
    }
  }

  /**
   * Starts {@code mainClass} with {@code args} on this JVM's class path; waits for its first line.
   */
  static Forked start(Class<?> mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=error");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    return new Forked(
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
  }

  /** The child's first line. */
  String ready() {
    return ready;
  }

  /** Sends {@code request} and returns the child's answer line. */
  synchronized String ask(String request) {
    in.println(request);
    try {
      String answer = out.readLine();
      if (answer == null) {
        throw new IllegalStateException("the forked JVM ended");
      }
      return answer;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    in.close();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
