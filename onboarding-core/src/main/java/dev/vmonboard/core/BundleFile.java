package dev.vmonboard.core;

import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.internal.ValueStyle;
import org.immutables.value.Value;

/**
 * One file of a {@link Bundle}: a relative path, a POSIX mode, its bytes, and whether it is a
 * secret. {@code toString()} shows path, mode and size, never the content.
 */
@Value.Immutable
@ValueStyle
public abstract class BundleFile {

  /** The mode of a secret file: owner read/write only. */
  public static final int SECRET_MODE = 0600;

  BundleFile() {}

  /**
   * The path relative to the bundle's root, with {@code /} separators, e.g. {@code sidecar.env}.
   */
  @Value.Parameter
  public abstract String path();

  /** The POSIX permission bits, e.g. {@code 0644}. */
  @Value.Parameter
  public abstract int mode();

  /** The bytes of the file (a copy). */
  @Value.Parameter
  @Value.Redacted
  public abstract byte[] content();

  /** Whether the content is a secret (never shown, written owner-only). */
  @Value.Parameter
  public abstract boolean secret();

  /** The size of the content in bytes. */
  public final int size() {
    return content().length;
  }

  /** The mode as four octal digits, e.g. {@code 0644}. */
  public final String octalMode() {
    return octal(mode());
  }

  /** {@code mode} as four octal digits ({@code 0644}), as {@code %04o} formats it. */
  static String octal(int mode) {
    String digits = Integer.toOctalString(mode);
    return digits.length() >= 4 ? digits : "0000".substring(digits.length()) + digits;
  }

  /** A file that is not secret. */
  public static BundleFile of(String path, int mode, byte[] content) {
    return ImmutableBundleFile.of(path, mode, content, false);
  }

  /** A secret file: mode {@code 0600}. */
  public static BundleFile secret(String path, byte[] content) {
    return ImmutableBundleFile.of(path, SECRET_MODE, content, true);
  }

  @Value.Check
  void check() {
    if (!isSafeRelativePath(path())) {
      throw new IllegalArgumentException(
          "bundle file path '"
              + Names.printable(path())
              + "' must be relative, without '.', '..' or empty segments");
    }
    if (mode() < 0 || mode() > 07777) {
      throw new IllegalArgumentException("bundle file mode " + mode() + " is not a POSIX mode");
    }
    if (secret() && (mode() & 0077) != 0) {
      throw new IllegalArgumentException(
          "secret file " + path() + " must be owner-only, not " + octalMode());
    }
  }

  /**
   * Whether {@code path} is relative, normalised and made of printable, non-special segments: no
   * backslash and no character the SDK refuses in every path (controls, format characters,
   * separators, lone surrogates, private-use and unassigned code points).
   */
  public static boolean isSafeRelativePath(String path) {
    if (path.isEmpty()
        || path.startsWith("/")
        || path.length() > 1024
        || path.indexOf('\\') >= 0
        || Names.hasForbidden(path)) {
      return false;
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "BundleFile{"
        + path()
        + ", mode="
        + octalMode()
        + ", "
        + size()
        + " bytes"
        + (secret() ? ", secret" : "")
        + "}";
  }
}
