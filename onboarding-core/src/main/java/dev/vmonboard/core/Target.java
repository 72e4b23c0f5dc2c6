package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * How to reach one VM: host, port, user and the directory that receives the bundle, plus room for
 * transport-specific options. Resolved from the workload's annotations over the caller's {@link
 * TargetDefaults} by {@link #resolve(Workload, TargetDefaults)}, which validates every value.
 */
@Value.Immutable
@ValueStyle
public abstract class Target {

  Target() {}

  /** The host to connect to: an IP or a DNS name. */
  public abstract String host();

  /** The port to connect to. */
  @Value.Default
  public int port() {
    return 22;
  }

  /** The user to connect as; absent means the transport's own default. */
  public abstract Optional<String> user();

  /** The absolute directory on the VM that receives the bundle. */
  public abstract String configDir();

  /** Transport-specific options (e.g. {@code scp-path}), by name. */
  public abstract Map<String, String> options();

  /**
   * The target of {@code workload}: {@code ssh-host}, {@code ssh-port}, {@code ssh-user} and {@code
   * proxy-config-dir} annotations over {@code defaults}, host falling back to the address.
   *
   * @throws InvalidInputException naming each bad value and the workload
   */
  public static Target resolve(Workload workload, TargetDefaults defaults) {
    return TargetResolution.resolve(workload, defaults, true);
  }

  /**
   * The target of {@code workload} as {@link #resolve(Workload, TargetDefaults)}; when {@code
   * needsHost} is false (a transport that writes on this machine) a workload without a host, such
   * as a WorkloadGroup, gets the host {@value #NO_HOST}.
   *
   * @throws InvalidInputException naming each bad value and the workload
   */
  public static Target resolve(Workload workload, TargetDefaults defaults, boolean needsHost) {
    return TargetResolution.resolve(workload, defaults, needsHost);
  }

  /** The host of a target whose bundle stays on this machine and whose workload has none. */
  public static final String NO_HOST = "offline";

  /** A builder; prefer {@link #resolve(Workload, TargetDefaults)}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link Target}s. */
  public static final class Builder extends ImmutableTarget.Builder {
    Builder() {}
  }

  @Override
  public String toString() {
    return user().map(user -> user + "@").orElse("") + host() + ":" + port() + " " + configDir();
  }
}
