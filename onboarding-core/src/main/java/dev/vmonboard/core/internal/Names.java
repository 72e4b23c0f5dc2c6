package dev.vmonboard.core.internal;

import dev.vmonboard.core.Problem;
import java.util.List;
import java.util.regex.Pattern;

/** Syntax checks shared by the SDK: Kubernetes names, addresses, printable values. Internal. */
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
   * A value made safe to show in a message: control characters escaped, long values cut. Never used
   * for secrets, which are never shown at all.
   */
  public static String printable(String value) {
    StringBuilder shown = new StringBuilder();
    int limit = Math.min(value.length(), SHOWN_CHARS);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        shown.append(String.format("\\x%02x", (int) c));
      } else {
        shown.append(c);
      }
    }
    if (value.length() > SHOWN_CHARS) {
      shown.append("... (").append(value.length()).append(" characters)");
    }
    return shown.toString();
  }
}
