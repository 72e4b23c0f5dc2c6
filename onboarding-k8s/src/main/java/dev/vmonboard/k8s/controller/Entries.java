package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.WorkloadRef;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** What the controller reads from a WorkloadEntry's metadata. */
final class Entries {

  /** Annotations with this prefix are the SDK's own bookkeeping: they never change the bundle. */
  static final String SDK_PREFIX = BootstrapRecord.PREFIX;

  private Entries() {}

  /** The informer's key of an entry: {@code namespace/name}. */
  static String key(GenericKubernetesResource entry) {
    return entry.getMetadata().getNamespace() + "/" + entry.getMetadata().getName();
  }

  /** The informer's key of the entry {@code ref}; {@link #ref(String)} reads it back. */
  static String key(WorkloadRef ref) {
    return ref.namespace() + "/" + ref.name();
  }

  static WorkloadRef ref(String key) {
    int slash = key.indexOf('/');
    return WorkloadRef.of(key.substring(0, slash), key.substring(slash + 1));
  }

  /** Whether the entry opted in with {@value OnboardingController#MANAGED_ANNOTATION}=true. */
  static boolean isManaged(GenericKubernetesResource entry) {
    return "true"
        .equalsIgnoreCase(
            annotations(entry).getOrDefault(OnboardingController.MANAGED_ANNOTATION, "").strip());
  }

  static boolean hasFinalizer(GenericKubernetesResource entry) {
    ObjectMeta metadata = entry.getMetadata();
    return metadata.getFinalizers() != null
        && metadata.getFinalizers().contains(OnboardingController.FINALIZER);
  }

  static boolean isDeleting(GenericKubernetesResource entry) {
    return entry.getMetadata().getDeletionTimestamp() != null;
  }

  /** Whether the controller has anything to do with the entry. */
  static boolean concernsController(GenericKubernetesResource entry) {
    return isManaged(entry) || hasFinalizer(entry);
  }

  static Map<String, String> annotations(GenericKubernetesResource entry) {
    Map<String, String> annotations = entry.getMetadata().getAnnotations();
    return annotations == null ? Map.of() : annotations;
  }

  static Optional<BootstrapRecord> record(GenericKubernetesResource entry) {
    return BootstrapRecord.fromAnnotations(annotations(entry));
  }

  /**
   * What the bundle is made of: spec, labels and the annotations that are not the SDK's own
   * bookkeeping. Two versions of an entry with the same fingerprint yield the same bundle, so the
   * controller's own annotation writes never cause a new onboarding.
   */
  static String fingerprint(GenericKubernetesResource entry, KubernetesSerialization json) {
    Map<String, String> annotations = new TreeMap<>();
    annotations(entry)
        .forEach(
            (key, value) -> {
              if (!key.startsWith(SDK_PREFIX)) {
                annotations.put(key, value);
              }
            });
    Map<String, String> labels =
        entry.getMetadata().getLabels() == null
            ? Map.of()
            : new TreeMap<>(entry.getMetadata().getLabels());
    return json.asJson(entry.getAdditionalProperties().get("spec")) + labels + annotations;
  }

  /** The fingerprint plus what decides the controller's course: opt-in, deletion, finalizer. */
  static String relevantState(GenericKubernetesResource entry, KubernetesSerialization json) {
    return fingerprint(entry, json)
        + "|managed="
        + isManaged(entry)
        + "|deleting="
        + isDeleting(entry)
        + "|finalizer="
        + hasFinalizer(entry);
  }
}
