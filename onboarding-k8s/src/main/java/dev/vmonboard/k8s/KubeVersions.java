package dev.vmonboard.k8s;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Kubernetes API version priority: GA before beta before alpha, then higher numbers first. */
final class KubeVersions {

  private static final Pattern VERSION = Pattern.compile("v(\\d+)(?:(alpha|beta)(\\d+))?");

  private KubeVersions() {}

  /** A number that sorts {@code version} as Kubernetes does: higher is newer and more stable. */
  static long priority(String version) {
    Matcher m = VERSION.matcher(version);
    if (!m.matches()) {
      return 0;
    }
    long stability = m.group(2) == null ? 3 : m.group(2).equals("beta") ? 2 : 1;
    long major = Math.min(Long.parseLong(m.group(1)), 999);
    long minor = m.group(3) == null ? 0 : Math.min(Long.parseLong(m.group(3)), 999);
    return stability * 1_000_000 + major * 1_000 + minor;
  }
}
