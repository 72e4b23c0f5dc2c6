package dev.vmonboard.core.mesh;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Reads Istio's configuration texts (MeshConfig YAML, install values JSON, ProxyConfig YAML or
 * JSON) into the mesh model, and knows Istio's built-in ProxyConfig defaults. Malformed text is
 * refused with an {@link InvalidInputException} naming its source.
 */
public final class IstioConfig {

  /**
   * Reads YAML; writes it without a document marker, without folding long lines, and with every
   * string double-quoted (so that agents reading YAML 1.1 never take {@code "8080"}, {@code
   * "12:30"} or {@code "on"} for a number or a boolean).
   */
  private static final YAMLMapper YAML =
      YAMLMapper.builder()
          .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
          .disable(YAMLWriteFeature.SPLIT_LINES)
          .build();

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private IstioConfig() {}

  /**
   * Istio's built-in ProxyConfig (the {@code defaultConfig} of an empty {@code mesh}) for an
   * installation in {@code istioNamespace} at {@code revision}.
   */
  public static Map<String, Object> builtInProxyConfig(
      String istioNamespace, Optional<String> revision) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("configPath", "./etc/istio/proxy");
    config.put("binaryPath", "/usr/local/bin/envoy");
    config.put("drainDuration", "45s");
    config.put("parentShutdownDuration", "60s");
    config.put(
        "discoveryAddress",
        revision.map(rev -> "istiod-" + rev).orElse("istiod")
            + "."
            + istioNamespace
            + ".svc:15012");
    config.put("proxyAdminPort", 15000);
    config.put("controlPlaneAuthPolicy", "MUTUAL_TLS");
    config.put("statNameLength", 189);
    config.put(
        "tracing", Map.of("zipkin", Map.of("address", "zipkin." + istioNamespace + ":9411")));
    config.put("statusPort", 15020);
    config.put("terminationDrainDuration", "5s");
    return Collections.unmodifiableMap(config);
  }

  /**
   * Parses a MeshConfig ({@code mesh} key of the {@code istio} ConfigMap). Empty text is an empty
   * MeshConfig.
   *
   * @param source what the text is, for messages, e.g. {@code ConfigMap istio-system/istio key
   *     mesh}
   */
  public static Map<String, Object> parseMeshConfig(String yaml, String source) {
    return parseYamlMap(yaml, source, "MeshConfig YAML");
  }

  /** Parses {@code meshNetworks} YAML. Empty text means no networks. */
  public static Map<String, Object> parseMeshNetworks(String yaml, String source) {
    return parseYamlMap(yaml, source, "meshNetworks YAML");
  }

  /** Parses a ProxyConfig given as YAML or JSON (e.g. {@code proxy.istio.io/config}). */
  public static Map<String, Object> parseProxyConfig(String text, String source) {
    return parseYamlMap(text, source, "ProxyConfig (YAML or JSON)");
  }

  /**
   * Parses the {@code values} JSON of the sidecar injector ConfigMap into {@link InstallValues};
   * what is absent keeps Istio's default.
   */
  public static InstallValues parseValues(String json, String source) {
    Map<String, Object> values;
    if (json == null || json.isBlank()) {
      values = Map.of();
    } else {
      try {
        values = JSON.readValue(json, MAP);
      } catch (JacksonException e) {
        throw malformed(source, "install values JSON", e);
      }
      if (values == null) {
        values = Map.of();
      }
    }
    InstallValues.Builder builder = InstallValues.builder();
    Map<String, Object> global = child(values, "global");
    Map<String, Object> proxy = child(global, "proxy");
    text(global, "jwtPolicy").ifPresent(builder::jwtPolicy);
    text(global, "pilotCertProvider").ifPresent(builder::pilotCertProvider);
    text(global, "hub").ifPresent(builder::hub);
    text(global, "tag").ifPresent(builder::tag);
    text(proxy, "image").ifPresent(builder::proxyImage);
    text(proxy, "logLevel").ifPresent(builder::logLevel);
    text(proxy, "componentLogLevel").ifPresent(builder::componentLogLevel);
    text(global, "trustDomain").ifPresent(builder::trustDomain);
    text(global, "meshID").ifPresent(builder::meshId);
    text(global, "network").ifPresent(builder::network);
    text(child(global, "multiCluster"), "clusterName").ifPresent(builder::clusterName);
    text(global, "caAddress").ifPresent(builder::caAddress);
    text(values, "revision").ifPresent(builder::revision);
    return builder.build();
  }

  /**
   * {@code override} merged over {@code base}: maps merge key by key, recursively; any other value
   * (lists included) replaces. Neither argument changes; key order: base's, then new keys.
   */
  public static Map<String, Object> deepMerge(
      Map<String, Object> base, Map<String, Object> override) {
    Map<String, Object> merged = new LinkedHashMap<>(base);
    for (Map.Entry<String, Object> entry : override.entrySet()) {
      Object existing = merged.get(entry.getKey());
      if (existing instanceof Map<?, ?> existingMap && entry.getValue() instanceof Map<?, ?> add) {
        merged.put(entry.getKey(), deepMerge(stringKeys(existingMap), stringKeys(add)));
      } else {
        merged.put(entry.getKey(), entry.getValue());
      }
    }
    return Collections.unmodifiableMap(merged);
  }

  /** Compact JSON of a configuration tree (a map or a list), keys in the maps' order. */
  public static String toCompactJson(Object tree) {
    return JSON.writeValueAsString(tree);
  }

  /**
   * YAML of a configuration tree, keys in the map's order: block style, strings double-quoted, no
   * {@code ---} marker.
   */
  public static String toYaml(Object tree) {
    return YAML.writeValueAsString(tree);
  }

  /** A map with {@code String} keys, copied from one of unknown key type. */
  static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((key, value) -> copy.put(String.valueOf(key), value));
    return copy;
  }

  private static Map<String, Object> parseYamlMap(String text, String source, String what) {
    if (text == null || text.isBlank()) {
      return Map.of();
    }
    Object parsed;
    try {
      parsed = YAML.readValue(text, Object.class);
    } catch (JacksonException e) {
      throw malformed(source, what, e);
    }
    if (parsed == null) {
      return Map.of();
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw InvalidInputException.of(
          null, what, Problem.of(source, "is not a mapping (found " + kind(parsed) + ")"));
    }
    return Collections.unmodifiableMap(stringKeys(map));
  }

  private static String kind(Object parsed) {
    return parsed instanceof List<?> ? "a list" : "a " + parsed.getClass().getSimpleName();
  }

  private static InvalidInputException malformed(String source, String what, JacksonException e) {
    String detail = e.getOriginalMessage();
    int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
    return InvalidInputException.of(
        null,
        what,
        Problem.of(
            source,
            "is not valid "
                + what
                + (line > 0 ? " (line " + line + ")" : "")
                + ": "
                + (detail == null ? "unreadable" : firstLine(detail))));
  }

  private static String firstLine(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> child(Map<String, Object> map, String key) {
    Object value = map.get(key);
    return value instanceof Map<?, ?> ? (Map<String, Object>) value : Map.of();
  }

  private static Optional<String> text(Map<String, Object> map, String key) {
    Object value = map.get(key);
    if (value == null) {
      return Optional.empty();
    }
    String text = String.valueOf(value);
    return text.isBlank() ? Optional.empty() : Optional.of(text);
  }
}
