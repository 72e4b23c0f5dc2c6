package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.k8s.KubernetesCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.function.Predicate;

/**
 * Changes a WorkloadEntry's metadata (finalizers, status annotations) with optimistic locking: it
 * reads the entry, applies the change and writes it with the resource version it read, reading
 * again on a conflict, so that a concurrent writer's change is never overwritten.
 */
final class EntryWriter {

  private static final int ATTEMPTS = 5;

  private final KubernetesCluster cluster;

  EntryWriter(KubernetesCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * Applies {@code change} (which returns false when there is nothing to change) to the entry
   * {@code ref} and writes it. Returns false when the entry is gone.
   *
   * @throws IllegalStateException naming the entry and what the API server said, when the write is
   *     refused or keeps conflicting
   */
  boolean update(WorkloadRef ref, String what, Predicate<ObjectMeta> change) {
    return update(ref, what, change, null);
  }

  /**
   * As {@link #update(WorkloadRef, String, Predicate)}, trying first on a copy of {@code known}
   * (the informer's version of the entry, if not null) instead of reading it: one request fewer
   * when nobody changed the entry since, a conflict and a read when somebody did.
   */
  boolean update(
      WorkloadRef ref, String what, Predicate<ObjectMeta> change, GenericKubernetesResource known) {
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        GenericKubernetesResource current =
            attempt == 1 && known != null
                ? cluster.client().getKubernetesSerialization().clone(known)
                : cluster.workloadEntries().inNamespace(ref.namespace()).withName(ref.name()).get();
        if (current == null) {
          return false;
        }
        if (!change.test(current.getMetadata())) {
          return true;
        }
        cluster.workloadEntries().inNamespace(ref.namespace()).resource(current).update();
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return false;
        }
        if (e.getCode() != 409) {
          throw new IllegalStateException(
              "cannot " + what + " on WorkloadEntry " + ref + ": " + describe(e), e);
        }
      }
    }
    throw new IllegalStateException(
        "cannot "
            + what
            + " on WorkloadEntry "
            + ref
            + ": it kept changing under other writers ("
            + ATTEMPTS
            + " conflicts); trying again later");
  }

  /** The API server's answer, without request bodies. */
  static String describe(KubernetesClientException e) {
    Status status = e.getStatus();
    String message =
        status != null && status.getMessage() != null && !status.getMessage().isBlank()
            ? status.getMessage()
            : String.valueOf(e.getMessage());
    return (e.getCode() > 0 ? "HTTP " + e.getCode() + ": " : "") + message;
  }
}
