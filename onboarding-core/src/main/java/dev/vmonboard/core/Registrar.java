package dev.vmonboard.core;

import java.util.List;

/**
 * Stage 1: registers VM workloads with the control plane, or finds existing ones.
 *
 * <p>The default implementation, {@code KubernetesRegistrar} in {@code onboarding-k8s}, writes
 * {@code WorkloadEntry} objects (and, when asked, the ServiceAccount, Service and Sidecar around
 * them). Implementations throw {@link StageException} (transient for failures worth retrying) and
 * {@link NotFoundException} when a workload does not exist. They must be thread-safe: a fleet run
 * calls them from several threads.
 */
public interface Registrar {

  /**
   * Creates or updates everything {@code registration} asks for; running it twice leaves the same
   * objects. Returns the workload as registered.
   */
  Workload register(Registration registration);

  /**
   * The registered workload named {@code ref}.
   *
   * @throws NotFoundException when there is none
   */
  Workload resolve(WorkloadRef ref);

  /** The workloads {@code selector} covers, sorted by namespace and name. */
  List<Workload> list(WorkloadSelector selector);

  /**
   * Deletes the workload and whatever this registrar created for it, and nothing else.
   *
   * @return false when there was nothing left to delete
   */
  boolean deregister(WorkloadRef ref);

  /**
   * Keeps {@code record} on the workload (as {@link BootstrapRecord#toAnnotations()} annotations)
   * so that later runs can tell an up-to-date VM and a token close to expiry. The default keeps
   * nothing, which makes every run re-deliver.
   */
  default void recordBootstrap(WorkloadRef ref, BootstrapRecord record) {}

  /** What {@link #register} would do, one line per object, for dry runs. No side effect. */
  default List<String> describeRegistration(Registration registration) {
    return List.of("create or update workload " + registration.workload().ref());
  }

  /** What {@link #deregister} would do, for dry runs. No side effect. */
  default List<String> describeDeregistration(WorkloadRef ref) {
    return List.of("delete workload " + ref + " and the objects registered with it");
  }
}
