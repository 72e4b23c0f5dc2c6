package dev.vmonboard.ssh;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What one remote command left: its exit code, its standard output and the tail of its standard
 * error.
 */
record ExecResult(int exitCode, byte[] stdout, String stderrTail) {

  ExecResult {
    stdout = stdout.clone();
  }

  @Override
  public byte[] stdout() {
    return stdout.clone();
  }

  String stdoutText() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  /** The last {@code n} non-blank lines of standard error, joined by {@code " | "}. */
  String lastErrorLines(int n) {
    List<String> lines =
        Arrays.stream(stderrTail.split("\n")).map(String::strip).filter(l -> !l.isEmpty()).toList();
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ExecResult
        && ((ExecResult) other).exitCode == exitCode
        && Arrays.equals(((ExecResult) other).stdout, stdout)
        && ((ExecResult) other).stderrTail.equals(stderrTail);
  }

  @Override
  public int hashCode() {
    return 31 * exitCode + Arrays.hashCode(stdout);
  }

  @Override
  public String toString() {
    return "ExecResult[exit " + exitCode + ", " + stdout.length + " bytes out]";
  }
}
