/**
 * The onboarding controller: the SDK's pipeline run inside Kubernetes, driven by WorkloadEntries.
 *
 * <ul>
 *   <li>{@link dev.vmonboard.k8s.controller.OnboardingController}: the front door; builder, {@code
 *       start()}, {@code close()}.
 *   <li>{@link dev.vmonboard.k8s.controller.VmStagesFactory}, {@link
 *       dev.vmonboard.k8s.controller.VmStages}, {@link dev.vmonboard.k8s.controller.VmCredentials}:
 *       the caller's VM side (SSH or other), built from the credentials Secret.
 *   <li>{@link dev.vmonboard.k8s.controller.Sharding}: several replicas sharing the entries through
 *       shard Leases (one replica alone works every shard, as the former single leader did).
 *   <li>{@link dev.vmonboard.k8s.controller.ControllerEvent}, {@link
 *       dev.vmonboard.k8s.controller.ControllerListener}: what it did, as values.
 * </ul>
 *
 * <p>Deployment manifests (ServiceAccount, Deployment, RBAC with the Lease and finalizer rights)
 * ship as the class-path resources {@code dev/vmonboard/k8s/controller/deployment.yaml} and {@code
 * rbac.yaml}. A runnable example on the embedded cluster and embedded VMs is {@code
 * dev.vmonboard.examples.controller.ControllerDemo} in {@code onboarding-examples}.
 */
package dev.vmonboard.k8s.controller;
