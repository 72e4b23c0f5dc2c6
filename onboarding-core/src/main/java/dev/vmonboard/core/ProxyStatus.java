package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import org.immutables.value.Value;

/** What a {@link ProxyLauncher} found about the proxy on a VM. */
@Value.Immutable
@ValueStyle
public abstract class ProxyStatus {

  ProxyStatus() {}

  /** The proxy's state. */
  public enum State {
    /** Running and answering ready. */
    READY,
    /** Running but not (yet) ready. */
    NOT_READY,
    /** Installed or created but not running. */
    STOPPED,
    /** Not there at all. */
    ABSENT,
    /** Not started on purpose (a pipeline that only delivers). */
    NOT_STARTED
  }

  /** The state. */
  @Value.Parameter
  public abstract State state();

  /** What the launcher saw, e.g. {@code container istio-proxy running, ready in 1.2s}. */
  @Value.Parameter
  public abstract String detail();

  /** Whether the proxy runs and answers ready. */
  public final boolean isReady() {
    return state() == State.READY;
  }

  /** A status. */
  public static ProxyStatus of(State state, String detail) {
    return ImmutableProxyStatus.of(state, detail);
  }

  @Override
  public String toString() {
    return state() + " (" + detail() + ")";
  }
}
