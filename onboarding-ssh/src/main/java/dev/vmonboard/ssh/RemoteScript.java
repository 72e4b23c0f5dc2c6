package dev.vmonboard.ssh;

import dev.vmonboard.core.Shell;
import java.util.List;

/**
 * A POSIX {@code sh} script run in one exec channel: a fixed prelude ({@code set -u}, a {@code
 * fail} function that prints {@code vmonboard: MESSAGE} to stderr and exits with a code), variables
 * assigned from values through {@link Shell#quote}, then lines written by the SDK.
 *
 * <p>Values never appear in the script other than as quoted assignments; lines refer to them as
 * {@code "$var"}. The whole script reaches the VM as {@code sh -c 'SCRIPT'}, so the login shell of
 * the SSH user (bash, zsh, ...) only ever parses one quoted word.
 */
final class RemoteScript {

  private final StringBuilder text =
      new StringBuilder(
          "set -u\n"
              + "fail() { code=$1; shift; printf 'vmonboard: %s\\n' \"$*\" >&2; exit \"$code\"; }\n");

  /** Assigns {@code value}, quoted, to the shell variable {@code name}. */
  RemoteScript set(String name, String value) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("not a shell variable name: " + name);
    }
    text.append(name).append('=').append(Shell.quote(value)).append('\n');
    return this;
  }

  /**
   * Defines a function that runs {@code prefix} (quoted words, such as {@code sudo -n docker})
   * followed by the function's arguments.
   */
  RemoteScript function(String name, List<String> prefix) {
    text.append(name).append("() { ").append(Shell.join(prefix)).append(" \"$@\"; }\n");
    return this;
  }

  /**
   * Appends SDK-written lines; any value in them must come from a variable or {@link Shell#quote}.
   */
  RemoteScript lines(String... lines) {
    for (String line : lines) {
      text.append(line).append('\n');
    }
    return this;
  }

  /** {@code value} for an error message: control characters (a newline) shown as {@code ?}. */
  static String printable(String value) {
    return value.replaceAll("\\p{Cntrl}", "?");
  }

  /** The command for the exec request: {@code sh -c 'SCRIPT'}. */
  String command() {
    return Shell.join("sh", "-c", text.toString());
  }

  @Override
  public String toString() {
    return text.toString();
  }
}
