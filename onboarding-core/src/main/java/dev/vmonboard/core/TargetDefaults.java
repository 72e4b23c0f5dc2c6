package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * The caller's defaults for reaching VMs, used where a workload's annotations say nothing (the
 * {@code --ssh-user}, {@code --ssh-port} options of the command line).
 */
@Value.Immutable
@ValueStyle
public abstract class TargetDefaults {

  /** The default config directory on the VM, as the annotation catalogue documents. */
  public static final String DEFAULT_CONFIG_DIR = "/tmp/istio-proxy";

  TargetDefaults() {}

  /** The user to connect as when no {@code ssh-user} annotation says otherwise. */
  public abstract Optional<String> user();

  /** The port when no {@code ssh-port} annotation says otherwise. */
  @Value.Default
  public int port() {
    return 22;
  }

  /** The config directory when no {@code proxy-config-dir} annotation says otherwise. */
  @Value.Default
  public String configDir() {
    return DEFAULT_CONFIG_DIR;
  }

  /** Port 22, {@value #DEFAULT_CONFIG_DIR}, the transport's default user. */
  public static TargetDefaults standard() {
    return builder().build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link TargetDefaults}. */
  public static final class Builder extends ImmutableTargetDefaults.Builder {
    Builder() {}
  }
}
