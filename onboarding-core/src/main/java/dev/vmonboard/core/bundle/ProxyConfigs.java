package dev.vmonboard.core.bundle;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.mesh.IstioConfig;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * ProxyConfig trees (as {@link IstioConfig} parses them) the way the VM tooling combines them: a
 * base, then the mesh-expansion overrides, then the workload's {@code proxy.istio.io/config}, with
 * {@code proxyMetadata} checked (it becomes environment variables) and, behind a gateway known only
 * by host name, cluster-local addresses pointed at that host.
 */
final class ProxyConfigs {

  static final String METADATA = "proxyMetadata";
  static final String CONCURRENCY = "concurrency";
  static final String DISCOVERY_ADDRESS = "discoveryAddress";

  static final String MESH_SOURCE = "MeshConfig defaultConfig";
  static final String EXPANSION_SOURCE = "mesh-expansion PROXY_CONFIG";
  static final String ANNOTATION_SOURCE = BootstrapAnnotation.PROXY_CONFIG.key();

  /** The sections with a control-plane address and the TLS settings that go with it. */
  private static final String[][] ADDRESSES = {
    {DISCOVERY_ADDRESS},
    {"tracing", "zipkin", "address"},
    {"tracing", "lightstep", "address"},
    {"tracing", "datadog", "address"},
    {"envoyAccessLogService", "address"},
    {"envoyMetricsService", "address"},
    {"zipkinAddress"},
  };

  private static final String[][] TLS_SETTINGS = {
    null,
    {"tracing", "tlsSettings"},
    {"tracing", "tlsSettings"},
    {"tracing", "tlsSettings"},
    {"envoyAccessLogService", "tlsSettings"},
    {"envoyMetricsService", "tlsSettings"},
    null,
  };

  /** Where {@link #controlPlaneAddresses} looks, in order. */
  private static final String[][] ALIAS_SOURCES = {
    {DISCOVERY_ADDRESS},
    {"tracing", "zipkin", "address"},
    {"tracing", "lightstep", "address"},
    {"tracing", "datadog", "address"},
    {"tracing", "tlsSettings", "sni"},
    {"envoyAccessLogService", "address"},
    {"envoyAccessLogService", "tlsSettings", "sni"},
    {"envoyMetricsService", "address"},
    {"envoyMetricsService", "tlsSettings", "sni"},
    {"zipkinAddress"},
  };

  private ProxyConfigs() {}

  /**
   * The workload's {@code proxy.istio.io/config}, parsed and checked; empty when absent or bad (the
   * problem is recorded).
   */
  static Map<String, Object> ofAnnotation(Workload workload, Checks checks) {
    return ofAnnotationText(workload.annotation(BootstrapAnnotation.PROXY_CONFIG), checks);
  }

  /**
   * A {@code proxy.istio.io/config} value, parsed and checked; empty when absent or bad (the
   * problem is recorded).
   */
  static Map<String, Object> ofAnnotationText(Optional<String> text, Checks checks) {
    if (text.isEmpty()) {
      return Map.of();
    }
    try {
      Map<String, Object> config = IstioConfig.parseProxyConfig(text.get(), ANNOTATION_SOURCE);
      return check(config, ANNOTATION_SOURCE, checks) ? config : Map.of();
    } catch (InvalidInputException e) {
      checks.addAll(e);
      return Map.of();
    }
  }

  /** The mesh-expansion overrides, checked; empty when bad (the problem is recorded). */
  static Map<String, Object> ofExpansion(MeshSnapshot mesh, Checks checks) {
    Map<String, Object> config = mesh.meshExpansionProxyConfig();
    return check(config, EXPANSION_SOURCE, checks) ? config : Map.of();
  }

  /** The mesh's own {@code defaultConfig} (not Istio's built-ins), checked. */
  static Map<String, Object> ofMesh(MeshSnapshot mesh, Checks checks) {
    Object configured = mesh.meshConfig().get("defaultConfig");
    if (!(configured instanceof Map<?, ?> map)) {
      return Map.of();
    }
    Map<String, Object> config = sortedCopy(map);
    return check(config, MESH_SOURCE, checks) ? config : Map.of();
  }

  /**
   * {@code base}, then {@code expansion}, then {@code annotation}, each applied as the anchor's
   * protobuf-JSON unmarshal onto the ProxyConfig before it: a scalar or list a layer sets replaces
   * the earlier one, a message section (such as {@code tracing}) merges field by field, and a map
   * field ({@code proxyMetadata}, {@code runtimeValues}, {@code tracing.customTags}) is replaced
   * whole. Gives a new tree with sorted keys and {@code proxyMetadata} values as text.
   */
  static Map<String, Object> merge(
      Map<String, Object> base, Map<String, Object> expansion, Map<String, Object> annotation) {
    Map<String, Object> merged = overlay(overlay(sortedCopy(base), expansion, ""), annotation, "");
    if (merged.get(METADATA) instanceof Map<?, ?> metadata) {
      Map<String, Object> text = new TreeMap<>();
      metadata.forEach((key, value) -> text.put(String.valueOf(key), String.valueOf(value)));
      merged.put(METADATA, text);
    }
    return merged;
  }

  /** The ProxyConfig fields that are protobuf maps: a layer that sets one replaces it whole. */
  private static final java.util.Set<String> MAP_FIELDS =
      java.util.Set.of(METADATA, "runtimeValues", "tracing.customTags");

  private static Map<String, Object> overlay(
      Map<String, Object> base, Map<String, Object> layer, String prefix) {
    Map<String, Object> merged = sortedCopy(base);
    layer.forEach(
        (key, value) -> {
          String field = prefix + key;
          if (merged.get(key) instanceof Map<?, ?> existing
              && value instanceof Map<?, ?> section
              && !MAP_FIELDS.contains(field)) {
            merged.put(key, overlay(sortedCopy(existing), sortedCopy(section), field + "."));
          } else {
            merged.put(key, copyOf(value));
          }
        });
    return merged;
  }

  /** The {@code proxyMetadata} of a merged tree. */
  static Map<String, String> metadata(Map<String, Object> tree) {
    Map<String, String> metadata = new TreeMap<>();
    if (tree.get(METADATA) instanceof Map<?, ?> map) {
      map.forEach((key, value) -> metadata.put(String.valueOf(key), String.valueOf(value)));
    }
    return metadata;
  }

  /**
   * The {@code concurrency} set by {@code config} (a whole number, at least 0), if any; a bad value
   * is recorded as a problem of {@code source}.
   */
  static Optional<Integer> concurrency(Map<String, Object> config, String source, Checks checks) {
    Object value = config.get(CONCURRENCY);
    if (value == null) {
      return Optional.empty();
    }
    OptionalInt number =
        value instanceof Number n && n.doubleValue() == n.intValue()
            ? OptionalInt.of(n.intValue())
            : Names.parseNumber(String.valueOf(value));
    if (number.isPresent() && number.getAsInt() >= 0) {
      return Optional.of(number.getAsInt());
    }
    checks.add(
        source + " " + CONCURRENCY,
        "'"
            + Names.printable(String.valueOf(value))
            + "' is not a number of worker threads (0 = one per core)");
    return Optional.empty();
  }

  /**
   * The discovery address of a merged tree, checked to fit on a line (it reaches environment
   * files); empty when absent or bad (the problem is recorded).
   */
  static String discoveryAddress(Map<String, Object> tree, Checks checks) {
    return text(tree, DISCOVERY_ADDRESS)
        .filter(address -> checks.line(DISCOVERY_ADDRESS + " (ProxyConfig)", address))
        .orElse("");
  }

  /** The text at {@code path} in {@code tree}, when it is text. */
  static Optional<String> text(Map<String, Object> tree, String... path) {
    Map<String, Object> holder = section(tree, path, path.length - 1);
    return holder != null && holder.get(path[path.length - 1]) instanceof String text
        ? Optional.of(text)
        : Optional.empty();
  }

  /**
   * Points every cluster-local control-plane address of {@code tree} (discovery, tracing, access
   * log and metrics services) at {@code gatewayHost}, keeping ports. Where TLS to that service is
   * on, keeps its identity checkable: SNI {@code svc.ns.svc} unless set, and both {@code
   * svc.ns.svc} and {@code svc.ns.svc.cluster.local} among the subject alternative names.
   */
  static void pointAtGateway(Map<String, Object> tree, String gatewayHost, String namespace) {
    for (int i = 0; i < ADDRESSES.length; i++) {
      String[] path = ADDRESSES[i];
      Optional<String> address = text(tree, path);
      if (address.isEmpty() || !Addresses.isClusterLocal(address.get())) {
        continue;
      }
      section(tree, path, path.length - 1)
          .put(path[path.length - 1], Addresses.onGateway(address.get(), gatewayHost));
      if (TLS_SETTINGS[i] != null) {
        verifyIdentity(tree, TLS_SETTINGS[i], address.get(), namespace);
      }
    }
  }

  /**
   * Every control-plane address {@code tree} names: discovery, tracing, access log and metrics
   * services, and the SNI names their TLS settings use, in that order.
   */
  static List<String> controlPlaneAddresses(Map<String, Object> tree) {
    List<String> addresses = new ArrayList<>();
    for (String[] path : ALIAS_SOURCES) {
      text(tree, path).ifPresent(addresses::add);
    }
    return addresses;
  }

  /** Compact JSON of {@code tree}. */
  static String json(Map<String, Object> tree) {
    return IstioConfig.toCompactJson(tree);
  }

  /** A deep copy of {@code map} whose maps (at every level) keep their keys sorted. */
  static Map<String, Object> sortedCopy(Map<?, ?> map) {
    Map<String, Object> copy = new TreeMap<>();
    map.forEach((key, value) -> copy.put(String.valueOf(key), copyOf(value)));
    return copy;
  }

  private static Object copyOf(Object value) {
    if (value instanceof Map<?, ?> map) {
      return sortedCopy(map);
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      list.forEach(item -> copy.add(copyOf(item)));
      return copy;
    }
    return value;
  }

  /**
   * Whether {@code config}'s {@code proxyMetadata} can become environment variables: a mapping of
   * variable names to single-line scalars. Records each problem, naming {@code source}.
   */
  private static boolean check(Map<String, Object> config, String source, Checks checks) {
    Object metadata = config.get(METADATA);
    if (metadata == null) {
      return true;
    }
    String field = source + " " + METADATA;
    if (!(metadata instanceof Map<?, ?> map)) {
      checks.add(field, "is not a mapping of environment variables to values");
      return false;
    }
    boolean ok = true;
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      String name = String.valueOf(entry.getKey());
      Object value = entry.getValue();
      if (!checks.envName(field, name)) {
        ok = false;
      } else if (value instanceof Map<?, ?> || value instanceof List<?>) {
        checks.add(field + "." + name, "is not a single value");
        ok = false;
      } else if (!checks.line(field + "." + name, String.valueOf(value))) {
        ok = false;
      }
    }
    return ok;
  }

  private static void verifyIdentity(
      Map<String, Object> tree, String[] tlsPath, String address, String namespace) {
    Map<String, Object> section = section(tree, tlsPath, tlsPath.length);
    Object mode = section == null ? null : section.get("mode");
    if (mode == null || "DISABLE".equals(mode)) {
      return;
    }
    String shortName = Addresses.serviceDotNamespace(address, namespace) + ".svc";
    String canonicalName = shortName + ".cluster.local";
    section.putIfAbsent("sni", shortName);
    List<Object> names = new ArrayList<>();
    if (section.get("subjectAltNames") instanceof List<?> existing) {
      names.addAll(existing);
    }
    for (String name : List.of(canonicalName, shortName)) {
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    section.put("subjectAltNames", names);
  }

  /** The map at the first {@code depth} keys of {@code path}, or null when there is none. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> tree, String[] path, int depth) {
    Object node = tree;
    for (int i = 0; i < depth; i++) {
      if (!(node instanceof Map<?, ?> map)) {
        return null;
      }
      node = map.get(path[i]);
    }
    return node instanceof Map<?, ?> ? (Map<String, Object>) node : null;
  }
}
