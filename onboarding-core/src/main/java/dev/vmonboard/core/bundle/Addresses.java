package dev.vmonboard.core.bundle;

import dev.vmonboard.core.internal.Names;
import java.util.List;
import java.util.Optional;

/**
 * Control-plane addresses ({@code host[:port]}) as Istio's VM tooling reads them: which ones are
 * cluster-local Kubernetes service names, and the host aliases that make them resolve on a VM.
 */
final class Addresses {

  private Addresses() {}

  /** The host of {@code host[:port]}, {@code [ipv6]:port} or a bare IPv6 address. */
  static String host(String address) {
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      return close < 0 ? address : address.substring(1, close);
    }
    int colon = address.indexOf(':');
    if (colon >= 0 && colon == address.lastIndexOf(':')) {
      return address.substring(0, colon);
    }
    return address;
  }

  /** The port of {@code host:port} or {@code [ipv6]:port}, when there is one. */
  static Optional<String> port(String address) {
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      return close >= 0 && address.startsWith(":", close + 1)
          ? Optional.of(address.substring(close + 2))
          : Optional.empty();
    }
    int colon = address.indexOf(':');
    if (colon >= 0 && colon == address.lastIndexOf(':')) {
      return Optional.of(address.substring(colon + 1));
    }
    return Optional.empty();
  }

  /**
   * Whether {@code address} names a Kubernetes service the way only the cluster resolves it: {@code
   * svc}, {@code svc.ns}, {@code svc.ns.svc}, {@code svc.ns.svc.cluster} or {@code
   * svc.ns.svc.cluster.local}. IP addresses and malformed names are not.
   */
  static boolean isClusterLocal(String address) {
    String host = host(address);
    if (!Names.isHostname(host) || Names.isIp(host)) {
      return false;
    }
    String[] segments = host.split("\\.", -1);
    switch (segments.length) {
      case 1:
      case 2:
        return true;
      case 3:
        return segments[2].equals("svc");
      case 4:
        return segments[2].equals("svc") && segments[3].equals("cluster");
      case 5:
        return segments[2].equals("svc")
            && segments[3].equals("cluster")
            && segments[4].equals("local");
      default:
        return false;
    }
  }

  /** {@code svc.ns} of a cluster-local address; {@code ns} defaults to {@code namespace}. */
  static String serviceDotNamespace(String address, String namespace) {
    String[] segments = host(address).split("\\.", 3);
    return segments[0] + "." + (segments.length > 1 ? segments[1] : namespace);
  }

  /**
   * The four names of a cluster-local address: {@code svc.ns}, {@code svc.ns.svc}, {@code
   * svc.ns.svc.cluster} and {@code svc.ns.svc.cluster.local}.
   */
  static List<String> aliases(String address, String namespace) {
    String base = serviceDotNamespace(address, namespace);
    return List.of(base, base + ".svc", base + ".svc.cluster", base + ".svc.cluster.local");
  }

  /** {@code address} pointed at the host name {@code gatewayHost}, keeping its port. */
  static String onGateway(String address, String gatewayHost) {
    return port(address).map(port -> gatewayHost + ":" + port).orElse(gatewayHost);
  }
}
