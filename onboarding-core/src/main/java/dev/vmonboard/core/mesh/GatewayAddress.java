package dev.vmonboard.core.mesh;

import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.internal.ValueStyle;
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

  @Override
  public String toString() {
    return address();
  }
}
