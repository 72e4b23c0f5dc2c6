package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.time.Duration;
import org.immutables.value.Value;

/** What the pipeline asks a {@link TokenIssuer} for: an audience and a lifetime. */
@Value.Immutable
@ValueStyle
public abstract class TokenRequest {

  /** Istio's CA audience, the default. */
  public static final String ISTIO_CA_AUDIENCE = "istio-ca";

  TokenRequest() {}

  /** The audience the token must carry. */
  @Value.Parameter
  public abstract String audience();

  /** The lifetime asked for; the issuer may grant a different one. */
  @Value.Parameter
  public abstract Duration lifetime();

  /** A request for {@code audience} and {@code lifetime} (at least ten minutes). */
  public static TokenRequest of(String audience, Duration lifetime) {
    if (audience.isBlank()) {
      throw new IllegalArgumentException("token audience is empty");
    }
    if (lifetime.compareTo(Duration.ofMinutes(10)) < 0) {
      throw new IllegalArgumentException(
          "token lifetime " + lifetime + " is below the 10 minutes Kubernetes accepts");
    }
    return ImmutableTokenRequest.of(audience, lifetime);
  }
}
