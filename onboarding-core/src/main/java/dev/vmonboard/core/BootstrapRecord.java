package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What the pipeline records after bootstrapping a VM: the bundle's content hash, when, and when the
 * delivered token expires. Written next to the bundle on the VM ({@value #FILE}) and on the
 * workload as annotations ({@value #PREFIX}...), so that a re-run can leave an up-to-date VM alone
 * and a refresh can find tokens close to expiry.
 *
 * <p>The annotations use the SDK's own prefix, not {@code istio.io/}, so recording them never
 * changes the proxy's configuration (Istio passes {@code *istio.io/*} annotations to the proxy).
 */
@Value.Immutable
@ValueStyle
public abstract class BootstrapRecord {

  /** The prefix of the annotations the record is kept in. */
  public static final String PREFIX = "vmonboard.dev/";

  /** Annotation: the bundle's content hash. */
  public static final String BUNDLE_HASH = PREFIX + "bundle-hash";

  /** Annotation: when the VM was last bootstrapped (ISO-8601). */
  public static final String BOOTSTRAPPED_AT = PREFIX + "bootstrapped-at";

  /** Annotation: when the token on the VM expires (ISO-8601). */
  public static final String TOKEN_EXPIRES_AT = PREFIX + "token-expires-at";

  /** The file, next to the bundle on the VM, that holds the record as JSON. */
  public static final String FILE = "bootstrap-state.json";

  BootstrapRecord() {}

  /** The content hash of the delivered bundle (without token). */
  @Value.Parameter
  public abstract String bundleHash();

  /** When the bundle or token was delivered. */
  @Value.Parameter
  public abstract Instant bootstrappedAt();

  /** When the delivered token expires. */
  @Value.Parameter
  public abstract Instant tokenExpiresAt();

  /** A record. */
  public static BootstrapRecord of(String bundleHash, Instant bootstrappedAt, Instant expiresAt) {
    return ImmutableBootstrapRecord.of(bundleHash, bootstrappedAt, expiresAt);
  }

  /** The record kept in {@code annotations}, if a complete, readable one is there. */
  public static Optional<BootstrapRecord> fromAnnotations(Map<String, String> annotations) {
    String hash = annotations.get(BUNDLE_HASH);
    String at = annotations.get(BOOTSTRAPPED_AT);
    String expires = annotations.get(TOKEN_EXPIRES_AT);
    if (hash == null || at == null || expires == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(of(hash, Instant.parse(at), Instant.parse(expires)));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** The record as annotations. */
  public final Map<String, String> toAnnotations() {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(BUNDLE_HASH, bundleHash());
    annotations.put(BOOTSTRAPPED_AT, bootstrappedAt().toString());
    annotations.put(TOKEN_EXPIRES_AT, tokenExpiresAt().toString());
    return annotations;
  }

  /** The record as the file written next to the bundle (mode 0644; it holds no secret). */
  public final BundleFile toFile() {
    String json =
        "{\"bundleHash\":\""
            + bundleHash()
            + "\",\"bootstrappedAt\":\""
            + bootstrappedAt()
            + "\",\"tokenExpiresAt\":\""
            + tokenExpiresAt()
            + "\"}\n";
    return BundleFile.of(FILE, 0644, json.getBytes(StandardCharsets.UTF_8));
  }
}
