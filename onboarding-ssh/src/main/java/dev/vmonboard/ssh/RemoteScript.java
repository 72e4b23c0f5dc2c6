package dev.vmonboard.ssh;

import dev.vmonboard.core.Shell;
import java.util.List;

/**
 * A POSIX {@code sh} script the SDK runs on a VM: a fixed prelude ({@code set -u}, a {@code fail}
 * function that prints {@code vmonboard: MESSAGE} to stderr and exits with a code), variables
 * assigned from values through {@link Shell#quote}, then lines written by the SDK.
 *
 * <p>Values never appear in the script other than as quoted assignments or quoted file contents;
 * lines refer to them as {@code "$var"}. Lines report results with {@code say WORDS} (defined by
 * {@link RemoteShell}, which runs the script and tells these lines apart from diagnostics); every
 * other output of the script, its commands' standard output included, counts as diagnostics.
 *
 * <p>A script may hold a secret (a token written by {@link #writeFile}): {@link #toString()} never
 * shows its text, and only {@link RemoteShell} reads it, to send it over the SSH channel.
 */
final class RemoteScript {

  /**
   * The exit code of a script whose file write failed because the VM's file system is full: not
   * worth retrying until someone frees space.
   */
  static final int DISK_FULL = 28;

  private final StringBuilder text =
      new StringBuilder(
          "set -u\n"
              + "fail() { code=$1; shift; printf 'vmonboard: %s\\n' \"$*\" >&2; exit \"$code\"; }\n"
              // A shell's built-in printf reports a full disk as a bare "I/O error": on a failed
              // write, df tells whether the file system is full, which is then said plainly.
              + "write_failed() { code=$1; where=$(dirname -- \"$2\"); shift 2;"
              + " avail=$(df -P -- \"$where\" 2>/dev/null | { read -r _; read -r _ _ _ a _;"
              + " echo \"${a:-}\"; });"
              + " [ \"$avail\" != 0 ] || fail "
              + DISK_FULL
              + " \"$* (No space left on device: the file system of $where is full)\";"
              + " fail \"$code\" \"$*\"; }\n");

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

  /**
   * Appends a line that creates the file {@code target} (a shell word, such as {@code
   * "$tmp"/'istio-token'}) with exactly {@code content}, written by the shell's built-in {@code
   * printf}: no process is started and the content never appears in a command line. The file gets
   * mode {@code 0666} less the current {@code umask}. On failure the script fails with {@code
   * failCode}, or with {@link #DISK_FULL} when the file system that holds {@code target} has no
   * space left (as {@code df} says; without {@code df} the failure keeps {@code failCode}).
   */
  RemoteScript writeFile(String target, byte[] content, int failCode, String what) {
    text.append("printf ")
        .append(Shell.quote(printfFormat(content)))
        .append(" > ")
        .append(target)
        .append(" || write_failed ")
        .append(failCode)
        .append(' ')
        .append(target)
        .append(' ')
        .append(Shell.quote("cannot write " + what))
        .append('\n');
    return this;
  }

  /**
   * {@code content} as a {@code printf} format that prints it byte for byte: printable ASCII and
   * newlines as they are, {@code %} as {@code %%}, a backslash as {@code \\}, every other byte
   * (quotes, control characters, NUL, bytes above 127) as a three-digit octal escape. A leading
   * {@code -} is escaped too, so that {@code printf} never takes the format for an option.
   */
  static String printfFormat(byte[] content) {
    StringBuilder format = new StringBuilder(content.length + content.length / 8 + 16);
    for (byte b : content) {
      int c = b & 0xff;
      if (c == '-' && format.length() == 0) {
        format.append("\\055");
      } else if (c == '\n') {
        format.append('\n');
      } else if (c == '%') {
        format.append("%%");
      } else if (c == '\\') {
        format.append("\\\\");
      } else if (c >= 0x20 && c < 0x7f && c != '\'') {
        format.append((char) c);
      } else {
        format
            .append('\\')
            .append((char) ('0' + (c >> 6)))
            .append((char) ('0' + ((c >> 3) & 7)))
            .append((char) ('0' + (c & 7)));
      }
    }
    return format.toString();
  }

  /** {@code value} for an error message: control characters (a newline) shown as {@code ?}. */
  static String printable(String value) {
    return value.replaceAll("\\p{Cntrl}", "?");
  }

  /** The script's text, for {@link RemoteShell} only: it may hold a secret. */
  String text() {
    return text.toString();
  }

  /** The size only: the text may hold a secret. */
  @Override
  public String toString() {
    return "RemoteScript[" + text.length() + " chars]";
  }
}
