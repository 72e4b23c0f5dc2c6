package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * A WorkloadGroup's readiness probe, as Istio's {@code ReadinessProbe}: exactly one of an HTTP GET,
 * a TCP connect or a command, with timing.
 */
@Value.Immutable
@ValueStyle
public abstract class ReadinessProbe {

  ReadinessProbe() {}

  /** Path of an HTTP GET probe, e.g. {@code /ready}. */
  public abstract Optional<String> httpPath();

  /** Port of an HTTP GET probe. */
  public abstract Optional<Integer> httpPort();

  /** Scheme of an HTTP GET probe ({@code HTTP} or {@code HTTPS}). */
  public abstract Optional<String> httpScheme();

  /** Host an HTTP GET probe connects to, when not the workload's own address. */
  public abstract Optional<String> httpHost();

  /** Headers an HTTP GET probe sends, in order (a name may repeat). */
  public abstract List<HttpHeader> httpHeaders();

  /** Port of a TCP connect probe. */
  public abstract Optional<Integer> tcpPort();

  /** Host a TCP connect probe connects to, when not the workload's own address. */
  public abstract Optional<String> tcpHost();

  /** Command of an exec probe. */
  public abstract List<String> execCommand();

  /** Seconds before the first probe. */
  public abstract Optional<Integer> initialDelaySeconds();

  /** Seconds between probes. */
  public abstract Optional<Integer> periodSeconds();

  /** Seconds before a probe times out. */
  public abstract Optional<Integer> timeoutSeconds();

  /** Successes needed to count as ready. */
  public abstract Optional<Integer> successThreshold();

  /** Failures needed to count as not ready. */
  public abstract Optional<Integer> failureThreshold();

  /** An HTTP GET probe on {@code port} at {@code path}. */
  public static Builder httpGet(String path, int port) {
    return new Builder().httpPath(path).httpPort(port);
  }

  /** An HTTP GET probe on {@code port}, path left to the agent ({@code /}). */
  public static Builder httpGet(int port) {
    return new Builder().httpPort(port);
  }

  /** A TCP connect probe on {@code port}. */
  public static Builder tcp(int port) {
    return new Builder().tcpPort(port);
  }

  /** An exec probe running {@code command}. */
  public static Builder exec(List<String> command) {
    return new Builder().addAllExecCommand(command);
  }

  /**
   * One header of an HTTP GET probe, as Istio's {@code HTTPHeader}.
   *
   * @param name the header's name
   * @param value its value
   */
  public record HttpHeader(String name, String value) {}

  @Value.Check
  void exactlyOneKind() {
    int kinds =
        (httpPort().isPresent() ? 1 : 0)
            + (tcpPort().isPresent() ? 1 : 0)
            + (execCommand().isEmpty() ? 0 : 1);
    if (kinds != 1) {
      throw new IllegalStateException(
          "a readiness probe is exactly one of httpGet, tcpSocket or exec");
    }
  }

  /** Builds {@link ReadinessProbe}s; start from {@link #httpGet}, {@link #tcp} or {@link #exec}. */
  public static final class Builder extends ImmutableReadinessProbe.Builder {
    Builder() {}
  }
}
