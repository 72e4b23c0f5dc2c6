package dev.vmonboard.core;

import com.fasterxml.jackson.annotation.JsonIgnoreType;
import dev.vmonboard.core.internal.ValueStyle;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.immutables.value.Value;

/**
 * A short-lived bootstrap token for one workload's ServiceAccount, with its audience and expiry.
 *
 * <p>The secret is {@linkplain Value.Redacted redacted} in {@code toString()}, is not a bean
 * property (JSON mappers find nothing to write) and the type is ignored by Jackson wherever it
 * appears as a field. Read it only where it goes to the VM.
 */
@Value.Immutable
@ValueStyle
@JsonIgnoreType
public abstract class BootstrapToken {

  BootstrapToken() {}

  /** The secret itself. Never log it. */
  @Value.Redacted
  @Value.Parameter
  public abstract String secret();

  /** The audience the token was issued for (Istio's CA expects {@code istio-ca}). */
  @Value.Parameter
  public abstract String audience();

  /** When the token stops being accepted, as the issuer answered (not as requested). */
  @Value.Parameter
  public abstract Instant expiresAt();

  /** The secret as bytes, as written to the VM's token file. */
  public final byte[] secretBytes() {
    return secret().getBytes(StandardCharsets.UTF_8);
  }

  /** A token with its secret, audience and expiry. */
  public static BootstrapToken of(String secret, String audience, Instant expiresAt) {
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("a bootstrap token cannot be empty");
    }
    return ImmutableBootstrapToken.of(secret, audience, expiresAt);
  }
}
