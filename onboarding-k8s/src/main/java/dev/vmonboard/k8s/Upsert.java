package dev.vmonboard.k8s;

import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BinaryOperator;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;

/**
 * Create-or-update of one object the SDK owns, idempotent and safe under concurrent writers.
 *
 * <p>Reads the object; creates it when absent; otherwise merges the desired content into the
 * existing object and replaces it with the existing resourceVersion (optimistic locking). Nothing
 * is written when the merge changes nothing, so a second run leaves the object untouched. A 409
 * (someone else wrote in between) re-reads and tries again. An existing object without the SDK's
 * managed-by label is the user's: it is refused or reused as it is, never changed.
 */
final class Upsert<T extends HasMetadata> {

  static final int ATTEMPTS = 5;

  /** What to do with an existing object the SDK did not create. */
  enum Unmanaged {
    /** Use it as it is (a ServiceAccount the user made is fine). */
    REUSE,
    /** Fail: registering would overwrite the user's object. */
    REFUSE
  }

  private final String description;
  private final Supplier<T> read;
  private final UnaryOperator<T> create;
  private final UnaryOperator<T> replace;
  private final BinaryOperator<T> merge;
  private final Unmanaged unmanaged;
  private final KubernetesSerialization json;

  /**
   * @param description the object, e.g. {@code Service vms/backend}, for messages
   * @param merge (existing, desired) to the object to write; may return existing unchanged
   */
  Upsert(
      String description,
      Supplier<T> read,
      UnaryOperator<T> create,
      UnaryOperator<T> replace,
      BinaryOperator<T> merge,
      Unmanaged unmanaged,
      KubernetesSerialization json) {
    this.description = description;
    this.read = read;
    this.create = create;
    this.replace = replace;
    this.merge = merge;
    this.unmanaged = unmanaged;
    this.json = json;
  }

  /**
   * Makes the object hold {@code desired}, registered for {@code owner}; returns what is stored.
   */
  T apply(T desired, String owner) {
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      T existing = read.get();
      try {
        if (existing == null) {
          Ownership.mark(desired.getMetadata(), Set.of(owner));
          return create.apply(desired);
        }
        if (!Ownership.isManaged(existing.getMetadata())) {
          if (unmanaged == Unmanaged.REUSE) {
            return existing;
          }
          throw StageException.permanent(
              description
                  + " already exists and was not created by vmonboard (it lacks the label "
                  + Ownership.MANAGED_BY_LABEL
                  + "="
                  + Ownership.MANAGED_BY_VALUE
                  + "); it was left unchanged",
              "to onboard an existing WorkloadEntry as it is, onboard it by reference instead of"
                  + " registering it; otherwise rename the object in the registration, or delete"
                  + " or label the existing one");
        }
        T before = json.clone(existing);
        T merged = merge.apply(json.clone(existing), desired);
        Set<String> owners = new TreeSet<>(Ownership.owners(existing.getMetadata()));
        owners.add(owner);
        Ownership.mark(merged.getMetadata(), owners);
        if (same(before, merged)) {
          return existing;
        }
        merged.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        return replace.apply(merged);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    throw StageException.transientFailure(
        description + " kept changing under concurrent writers (" + ATTEMPTS + " conflicts)",
        "another client writes the same object; the registration is retried",
        null);
  }

  private boolean same(T a, T b) {
    return json.convertValue(a, JsonNode.class).equals(json.convertValue(b, JsonNode.class));
  }
}
