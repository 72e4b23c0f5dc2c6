package dev.vmonboard.core;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The one way to build a POSIX shell command from values.
 *
 * <p>Every value that reaches a remote or local shell goes through {@link #quote(String)} (or
 * {@link #join(List)}, which quotes each word). Quoting uses single quotes, inside which a POSIX
 * shell interprets nothing; an embedded single quote becomes {@code '\''}. Values that contain a
 * NUL byte cannot be passed through a shell at all and are refused.
 */
public final class Shell {

  private static final Pattern SAFE_WORD = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private Shell() {}

  /**
   * Quotes one word so that a POSIX shell reads it back unchanged.
   *
   * @throws IllegalArgumentException if the value contains a NUL byte
   */
  public static String quote(String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a NUL byte cannot be passed to a shell");
    }
    if (!value.isEmpty() && SAFE_WORD.matcher(value).matches()) {
      return value;
    }
    return "'" + value.replace("'", "'\\''") + "'";
  }

  /** Quotes every word and joins them with single spaces into one command line. */
  public static String join(List<String> words) {
    StringBuilder line = new StringBuilder();
    for (String word : words) {
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(quote(word));
    }
    return line.toString();
  }

  /** {@link #join(List)} for a fixed list of words. */
  public static String join(String... words) {
    return join(List.of(words));
  }
}
