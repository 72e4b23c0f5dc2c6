package dev.vmonboard.core.internal;

import dev.vmonboard.core.Problem;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Syntax checks shared by the SDK: Kubernetes names, addresses, printable values, and the one rule
 * for characters ({@link #isForbidden(int)}) and numbers ({@link #parsePort(String)}, {@link
 * #parseNumber(String)}) that every name, path, host and number the SDK takes goes through.
 * Internal.
 */
public final class Names {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern HOSTNAME =
      Pattern.compile("(?i)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\.?");
  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
              + "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]+");
  private static final int SHOWN_CHARS = 64;
  private static final int MAX_PORT = 65535;
  private static final int MAX_NUMBER_DIGITS = 9;

  private Names() {}

  public static void checkNamespace(String field, String value, List<Problem> problems) {
    if (value == null || value.isEmpty()) {
      problems.add(Problem.of(field, "is missing"));
    } else if (value.length() > 63 || !DNS_LABEL.matcher(value).matches()) {
      problems.add(
          Problem.of(
              field,
              "'"
                  + printable(value)
                  + "' is not a valid namespace (lower-case letters, digits and '-', at most 63)"));
    }
  }

  public static void checkObjectName(String field, String value, List<Problem> problems) {
    if (value == null || value.isEmpty()) {
      problems.add(Problem.of(field, "is missing"));
    } else if (value.length() > 253 || !DNS_SUBDOMAIN.matcher(value).matches()) {
      problems.add(
          Problem.of(
              field,
              "'"
                  + printable(value)
                  + "' is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')"));
    }
  }

  public static boolean isIp(String value) {
    return IPV4.matcher(value).matches() || isIpv6(value);
  }

  public static boolean isIpv6(String value) {
    if (!value.contains(":") || !IPV6.matcher(value).matches()) {
      return false;
    }
    try {
      return java.net.InetAddress.getByName(value) instanceof java.net.Inet6Address;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** A DNS name; one whose last label is all digits is refused (it is a malformed IP). */
  public static boolean isHostname(String value) {
    if (value.length() > 253 || !HOSTNAME.matcher(value).matches()) {
      return false;
    }
    String trimmed = value.endsWith(".") ? value.substring(0, value.length() - 1) : value;
    String last = trimmed.substring(trimmed.lastIndexOf('.') + 1);
    return !last.chars().allMatch(Character::isDigit);
  }

  /** True for an IP address or a DNS name: the only shapes an address may take. */
  public static boolean isAddress(String value) {
    return value != null && (isIp(value) || isHostname(value));
  }

  /**
   * Whether {@code codePoint} is refused in every name, path and host the SDK takes (and, but for a
   * tab, in every value written to a file on the VM): what Java calls a control character (C0, DEL,
   * C1), a format character (bidirectional overrides and isolates, zero-width joiners, the byte
   * order mark, soft hyphen), a line or paragraph separator, a surrogate (one that is not half of a
   * pair; {@link #firstForbidden} reads pairs as one code point), a private-use or an unassigned
   * code point. None of them has a place in a name, and each can hide what a value really is from
   * whoever reads it in a terminal, a log or a script.
   */
  public static boolean isForbidden(int codePoint) {
    switch (Character.getType(codePoint)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
      case Character.SURROGATE:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
        return true;
      default:
        return false;
    }
  }

  /**
   * The index (in chars) of the first code point of {@code value} that {@link #isForbidden(int)}
   * refuses, or -1 when there is none.
   */
  public static int firstForbidden(String value) {
    for (int i = 0; i < value.length(); ) {
      int codePoint = value.codePointAt(i);
      if (isForbidden(codePoint)) {
        return i;
      }
      i += Character.charCount(codePoint);
    }
    return -1;
  }

  /** Whether {@code value} holds a character {@link #isForbidden(int)} refuses. */
  public static boolean hasForbidden(String value) {
    return firstForbidden(value) >= 0;
  }

  /**
   * What the first forbidden character of {@code value} is, for a message: e.g. {@code "a
   * newline"}, {@code "the format character U+202E"}; empty when there is none.
   */
  public static String describeForbidden(String value) {
    int at = firstForbidden(value);
    if (at < 0) {
      return "";
    }
    int codePoint = value.codePointAt(at);
    switch (codePoint) {
      case 0:
        return "a NUL byte";
      case '\n':
        return "a newline";
      case '\r':
        return "a carriage return";
      default:
        break;
    }
    String kind;
    switch (Character.getType(codePoint)) {
      case Character.CONTROL:
        kind = "the control character";
        break;
      case Character.FORMAT:
        kind = "the format character";
        break;
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
        kind = "the separator";
        break;
      case Character.SURROGATE:
        kind = "the unpaired surrogate";
        break;
      case Character.PRIVATE_USE:
        kind = "the private-use character";
        break;
      default:
        kind = "the unassigned code point";
        break;
    }
    return kind + " " + codePointName(codePoint);
  }

  /**
   * A TCP port written as 1 to 5 ASCII digits, 1-65535: no sign, no space, no other digits (Java's
   * {@code Integer.parseInt} takes Arabic-Indic and other digits, and callers used to trim). Empty
   * for anything else.
   */
  public static OptionalInt parsePort(String text) {
    OptionalInt number = parseDigits(text, 5);
    return number.isPresent() && number.getAsInt() >= 1 && number.getAsInt() <= MAX_PORT
        ? number
        : OptionalInt.empty();
  }

  /**
   * A whole number, at least 0, written as 1 to 9 ASCII digits and nothing else (no sign, no
   * space). Empty for anything else.
   */
  public static OptionalInt parseNumber(String text) {
    return parseDigits(text, MAX_NUMBER_DIGITS);
  }

  private static OptionalInt parseDigits(String text, int maxDigits) {
    if (text == null || text.isEmpty() || text.length() > maxDigits) {
      return OptionalInt.empty();
    }
    int number = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return OptionalInt.empty();
      }
      number = number * 10 + (c - '0');
    }
    return OptionalInt.of(number);
  }

  private static String codePointName(int codePoint) {
    return codePoint < 0x100
        ? String.format("\\x%02x", codePoint)
        : String.format("U+%04X", codePoint);
  }

  /**
   * A value made safe to show in a message: every character {@link #isForbidden(int)} refuses
   * escaped (as {@code \x0a}, or a backslash, {@code u} and four hex digits), long values cut.
   * Never used for secrets, which are never shown at all.
   */
  public static String printable(String value) {
    StringBuilder shown = new StringBuilder();
    int limit = Math.min(value.length(), SHOWN_CHARS);
    for (int i = 0; i < limit; ) {
      int codePoint = value.codePointAt(i);
      if (isForbidden(codePoint)) {
        shown.append(
            codePoint < 0x100
                ? String.format("\\x%02x", codePoint)
                : String.format("\\u%04x", codePoint));
      } else {
        shown.appendCodePoint(codePoint);
      }
      i += Character.charCount(codePoint);
    }
    if (value.length() > SHOWN_CHARS) {
      shown.append("... (").append(value.length()).append(" characters)");
    }
    return shown.toString();
  }
}
