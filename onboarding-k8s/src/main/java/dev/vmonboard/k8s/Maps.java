package dev.vmonboard.k8s;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** Small map helpers for the wire types: sorted, unmodifiable copies that are never null. */
final class Maps {

  private Maps() {}

  /** A sorted unmodifiable copy of {@code map}; empty for null. */
  static <V> Map<String, V> copy(Map<String, V> map) {
    return map == null || map.isEmpty()
        ? Map.of()
        : Collections.unmodifiableMap(new TreeMap<>(map));
  }
}
