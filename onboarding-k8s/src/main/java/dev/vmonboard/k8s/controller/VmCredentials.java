package dev.vmonboard.k8s.controller;

import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the controller hands to a {@link VmStagesFactory} to reach VMs: the data of the Kubernetes
 * Secret named by {@link OnboardingController.Builder#credentialsSecret(String, String)}, or
 * nothing when no Secret is configured.
 *
 * <p>The conventional keys are those of a {@code kubernetes.io/ssh-auth} Secret ({@value
 * #PRIVATE_KEY}) plus {@value #KNOWN_HOSTS}, {@value #USER} and {@value #PASSPHRASE}; a factory may
 * read any other key with {@link #get(String)}. Values are returned as copies. {@link #toString()}
 * names the Secret and its keys, never a value; a factory must not log values either.
 */
public final class VmCredentials {

  /** The private key to log in with (the key of a {@code kubernetes.io/ssh-auth} Secret). */
  public static final String PRIVATE_KEY = "ssh-privatekey";

  /** The passphrase of {@link #PRIVATE_KEY}, when it is encrypted. */
  public static final String PASSPHRASE = "ssh-passphrase";

  /** {@code known_hosts} lines of the VMs' host keys, for strict host-key checking. */
  public static final String KNOWN_HOSTS = "known_hosts";

  /** The user to log in as, where the WorkloadEntry's {@code ssh-user} annotation says nothing. */
  public static final String USER = "ssh-user";

  private static final VmCredentials NONE =
      new VmCredentials("no credentials Secret", "", Map.of());

  private final String source;
  private final String version;
  private final Map<String, byte[]> data;

  private VmCredentials(String source, String version, Map<String, byte[]> data) {
    this.source = source;
    this.version = version;
    this.data = data;
  }

  /** No credentials: the controller was configured without a Secret. */
  public static VmCredentials none() {
    return NONE;
  }

  /**
   * Credentials from {@code data} (copied), for host applications and tests that supply them
   * without a Secret; {@code source} names where they came from in messages.
   */
  public static VmCredentials of(String source, Map<String, byte[]> data) {
    Map<String, byte[]> copy = new TreeMap<>();
    data.forEach((key, value) -> copy.put(key, value.clone()));
    return new VmCredentials(Objects.requireNonNull(source, "source"), "", copy);
  }

  /**
   * The data of {@code secret}: {@code data} (base64) and {@code stringData}, the latter winning.
   */
  static VmCredentials fromSecret(Secret secret) {
    Map<String, byte[]> data = new TreeMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (key, value) ->
                  data.put(key, Base64.getMimeDecoder().decode(value == null ? "" : value)));
    }
    if (secret.getStringData() != null) {
      secret
          .getStringData()
          .forEach(
              (key, value) ->
                  data.put(key, (value == null ? "" : value).getBytes(StandardCharsets.UTF_8)));
    }
    String version = secret.getMetadata().getResourceVersion();
    return new VmCredentials(
        "Secret "
            + secret.getMetadata().getNamespace()
            + "/"
            + secret.getMetadata().getName()
            + " (resourceVersion "
            + version
            + ")",
        version == null ? "" : version,
        data);
  }

  /**
   * Where these credentials came from, e.g. {@code Secret vmonboard/vm-ssh (resourceVersion 7)}.
   */
  public String source() {
    return source;
  }

  /** The keys present. */
  public Set<String> keys() {
    return Set.copyOf(data.keySet());
  }

  /** The value of {@code key}, when present (a copy). */
  public Optional<byte[]> get(String key) {
    byte[] value = data.get(key);
    return value == null ? Optional.empty() : Optional.of(value.clone());
  }

  /** The value of {@code key} as UTF-8 text, when present. */
  public Optional<String> text(String key) {
    return get(key).map(bytes -> new String(bytes, StandardCharsets.UTF_8));
  }

  /**
   * The value of {@code key}.
   *
   * @throws IllegalStateException naming the Secret and the key (never a value) when it is absent
   */
  public byte[] require(String key) {
    return get(key)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    source
                        + " has no key '"
                        + key
                        + "' (its keys: "
                        + new TreeMap<>(data).keySet()
                        + "); add it, e.g. kubectl create secret generic NAME --from-file="
                        + key
                        + "=FILE"));
  }

  /** The SSH private key ({@value #PRIVATE_KEY}), when present. */
  public Optional<byte[]> privateKey() {
    return get(PRIVATE_KEY);
  }

  /** The known-hosts lines ({@value #KNOWN_HOSTS}), when present. */
  public Optional<String> knownHosts() {
    return text(KNOWN_HOSTS);
  }

  /** The SSH user ({@value #USER}), when present. */
  public Optional<String> user() {
    return text(USER).map(String::strip).filter(user -> !user.isEmpty());
  }

  /** The private key's passphrase ({@value #PASSPHRASE}), when present. */
  public Optional<String> passphrase() {
    return text(PASSPHRASE);
  }

  /** Which version of the Secret these are: changes whenever the Secret does. */
  String version() {
    return version;
  }

  @Override
  public String toString() {
    return "VmCredentials[" + source + ", keys " + new TreeMap<>(data).keySet() + "]";
  }
}
