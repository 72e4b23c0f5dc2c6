package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The SDK's bookkeeping on the objects it creates: the managed-by label that marks them as its own,
 * and an annotation listing the workloads each was registered for. A ServiceAccount, Service or
 * Sidecar shared by several VMs is deleted when the last of them is deregistered, and an object
 * without the label is never changed or deleted.
 */
final class Ownership {

  static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  static final String MANAGED_BY_VALUE = "vmonboard";
  static final String REGISTERED_FOR_ANNOTATION = "vmonboard.dev/registered-for";

  private Ownership() {}

  static boolean isManaged(ObjectMeta metadata) {
    return metadata != null
        && metadata.getLabels() != null
        && MANAGED_BY_VALUE.equals(metadata.getLabels().get(MANAGED_BY_LABEL));
  }

  /** The workloads {@code metadata}'s object was registered for. */
  static Set<String> owners(ObjectMeta metadata) {
    String value =
        metadata.getAnnotations() == null
            ? null
            : metadata.getAnnotations().get(REGISTERED_FOR_ANNOTATION);
    Set<String> owners = new TreeSet<>();
    if (value != null && !value.isBlank()) {
      Arrays.stream(value.split(","))
          .map(String::trim)
          .filter(s -> !s.isEmpty())
          .forEach(owners::add);
    }
    return owners;
  }

  /** Marks {@code metadata} as the SDK's, registered for {@code owners}. */
  static void mark(ObjectMeta metadata, Set<String> owners) {
    Map<String, String> labels = new LinkedHashMap<>(orEmpty(metadata.getLabels()));
    labels.put(MANAGED_BY_LABEL, MANAGED_BY_VALUE);
    metadata.setLabels(labels);
    Map<String, String> annotations = new LinkedHashMap<>(orEmpty(metadata.getAnnotations()));
    annotations.put(REGISTERED_FOR_ANNOTATION, String.join(",", new TreeSet<>(owners)));
    metadata.setAnnotations(annotations);
  }

  /** {@code map} without the SDK's bookkeeping keys. */
  static Map<String, String> withoutBookkeeping(Map<String, String> map) {
    return orEmpty(map).entrySet().stream()
        .filter(
            e ->
                !e.getKey().equals(MANAGED_BY_LABEL)
                    && !e.getKey().equals(REGISTERED_FOR_ANNOTATION))
        .collect(
            Collectors.toMap(
                Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
  }

  static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
