package dev.vmonboard.k8s;

import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BinaryOperator;
import tools.jackson.databind.JsonNode;

/**
 * Writing and releasing the objects the SDK owns, idempotent and safe under concurrent writers.
 *
 * <p>{@link #upsert} reads the object; creates it when absent; otherwise merges the desired content
 * into the existing object and replaces it with the existing resourceVersion (optimistic locking).
 * Nothing is written when the merge changes nothing, so a second run leaves the object untouched. A
 * 409 (someone else wrote in between) re-reads and tries again. An existing object without the
 * SDK's managed-by label is the user's: it is refused or reused as it is, never changed. {@link
 * #release} is the reverse, per workload. Other failures propagate as fabric8 exceptions for the
 * caller to translate.
 */
final class ManagedObjects {

  static final int ATTEMPTS = 5;

  /** What to do with an existing object the SDK did not create. */
  enum Unmanaged {
    /** Use it as it is (a ServiceAccount the user made is fine). */
    REUSE,
    /** Fail: registering would overwrite the user's object. */
    REFUSE
  }

  private ManagedObjects() {}

  /**
   * Makes the object named like {@code desired} hold its content, registered for {@code owner};
   * returns what is stored.
   *
   * @param merge (existing, desired) to the object to write; may return existing unchanged
   */
  static <T extends HasMetadata> T upsert(
      NonNamespaceOperation<T, ?, ? extends Resource<T>> operation,
      T desired,
      String owner,
      BinaryOperator<T> merge,
      Unmanaged unmanaged,
      KubernetesSerialization json) {
    String name = desired.getMetadata().getName();
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      T existing = operation.withName(name).get();
      try {
        if (existing == null) {
          Ownership.mark(desired.getMetadata(), Set.of(owner));
          return operation.resource(desired).create();
        }
        if (!Ownership.isManaged(existing.getMetadata())) {
          if (unmanaged == Unmanaged.REUSE) {
            return existing;
          }
          throw refusal(desired);
        }
        T merged = merge.apply(json.clone(existing), desired);
        Set<String> owners = new TreeSet<>(Ownership.owners(existing.getMetadata()));
        owners.add(owner);
        Ownership.mark(merged.getMetadata(), owners);
        if (json.convertValue(existing, JsonNode.class)
            .equals(json.convertValue(merged, JsonNode.class))) {
          return existing;
        }
        merged.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        return operation.resource(merged).update();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    throw conflicts(desired);
  }

  /**
   * Removes {@code owner} from the managed objects {@code operation} lists; deletes those it was
   * the last owner of. Returns whether anything changed.
   */
  static <T extends HasMetadata> boolean release(
      NonNamespaceOperation<T, ? extends KubernetesResourceList<T>, ? extends Resource<T>>
          operation,
      String owner) {
    boolean changed = false;
    for (T listed :
        operation
            .withLabel(Ownership.MANAGED_BY_LABEL, Ownership.MANAGED_BY_VALUE)
            .list()
            .getItems()) {
      String name = listed.getMetadata().getName();
      T current = listed;
      for (int attempt = 1; current != null && attempt <= ATTEMPTS; attempt++) {
        Set<String> owners = new TreeSet<>(Ownership.owners(current.getMetadata()));
        if (!owners.remove(owner)) {
          break;
        }
        try {
          if (owners.isEmpty()) {
            operation.withName(name).delete();
          } else {
            Ownership.mark(current.getMetadata(), owners);
            operation.resource(current).update();
          }
          changed = true;
          break;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          current = operation.withName(name).get();
        }
      }
    }
    return changed;
  }

  /**
   * Sets {@code annotations} on the object {@code name}, leaving everything else as it is; returns
   * false when there is no such object. Writes nothing when they are already set.
   */
  static <T extends HasMetadata> boolean annotate(
      NonNamespaceOperation<T, ?, ? extends Resource<T>> operation,
      String name,
      Map<String, String> annotations) {
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      T existing = operation.withName(name).get();
      if (existing == null) {
        return false;
      }
      Map<String, String> merged =
          new LinkedHashMap<>(Ownership.orEmpty(existing.getMetadata().getAnnotations()));
      merged.putAll(annotations);
      if (merged.equals(existing.getMetadata().getAnnotations())) {
        return true;
      }
      existing.getMetadata().setAnnotations(merged);
      try {
        operation.resource(existing).update();
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    throw conflicts(operation.withName(name).get());
  }

  private static StageException refusal(HasMetadata desired) {
    return StageException.permanent(
        describe(desired)
            + " already exists and was not created by vmonboard (it lacks the label "
            + Ownership.MANAGED_BY_LABEL
            + "="
            + Ownership.MANAGED_BY_VALUE
            + "); it was left unchanged",
        "to onboard an existing WorkloadEntry as it is, onboard it by reference instead of"
            + " registering it; otherwise rename the object in the registration, or delete or"
            + " label the existing one");
  }

  private static StageException conflicts(HasMetadata desired) {
    return StageException.transientFailure(
        describe(desired) + " kept changing under concurrent writers (" + ATTEMPTS + " conflicts)",
        "another client writes the same object; the registration is retried",
        null);
  }

  static String describe(HasMetadata object) {
    return object.getKind()
        + " "
        + object.getMetadata().getNamespace()
        + "/"
        + object.getMetadata().getName();
  }
}
