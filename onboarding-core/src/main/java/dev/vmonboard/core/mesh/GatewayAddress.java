package dev.vmonboard.core.mesh;

import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.internal.ValueStyle;
import java.util.List;
import org.immutables.value.Value;

/**
 * The address of the gateway through which a VM reaches istiod: an IP, or a host name (load
 * balancers of some clouds only have one).
 */
@Value.Immutable
@ValueStyle
public abstract class GatewayAddress {

  GatewayAddress() {}

  /** The IP or host name. */
  @Value.Parameter
  public abstract String address();

  /**
   * For a host name: the IPs it resolved to when the mesh was read (empty when it was not resolved
   * or did not resolve). The systemd style's {@code hosts} file uses the first one.
   */
  public abstract List<String> resolvedIps();

  /** Whether the address is a host name rather than an IP ({@code /etc/hosts} cannot use it). */
  public final boolean isHostname() {
    return !Names.isIp(address());
  }

  /** A gateway at {@code address}. */
  public static GatewayAddress of(String address) {
    if (!Names.isAddress(address)) {
      throw new IllegalArgumentException(
          "gateway address '" + Names.printable(address) + "' is neither an IP nor a host name");
    }
    return ImmutableGatewayAddress.of(address);
  }

  /** A gateway known by host name {@code hostname}, which resolved to {@code ips} (IPs). */
  public static GatewayAddress resolved(String hostname, List<String> ips) {
    for (String ip : ips) {
      if (!Names.isIp(ip)) {
        throw new IllegalArgumentException("'" + Names.printable(ip) + "' is not an IP");
      }
    }
    return ImmutableGatewayAddress.builder()
        .address(of(hostname).address())
        .resolvedIps(ips)
        .build();
  }

  @Override
  public String toString() {
    return address();
  }
}
