package dev.vmonboard.core;

import java.util.List;

/**
 * The one way to build a POSIX shell command from values.
 *
 * <p>Every value that reaches a remote or local shell goes through {@link #quote(String)} (or
 * {@link #join(List)}, which quotes each word). Quoting uses single quotes, inside which a POSIX
 * shell interprets nothing; an embedded single quote becomes {@code '\''}. Values that contain a
 * NUL byte cannot be passed through a shell at all and are refused.
 */
public final class Shell {

  /** The characters of a word that needs no quotes (besides ASCII letters and digits). */
  private static final String SAFE_PUNCTUATION = "_@%+=:,./-";

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
    if (isSafeWord(value)) {
      return value;
    }
    return "'" + value.replace("'", "'\\''") + "'";
  }

  /**
   * Whether {@code value} is a non-empty word of ASCII letters, digits and {@code _@%+=:,./-} only.
   * A loop rather than a regular expression: the SDK quotes every line of every file it delivers,
   * and a matcher per call was a visible share of a fleet run's allocation.
   */
  private static boolean isSafeWord(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean safe =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || SAFE_PUNCTUATION.indexOf(c) >= 0;
      if (!safe) {
        return false;
      }
    }
    return true;
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
