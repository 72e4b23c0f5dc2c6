/**
 * The Kubernetes stages of vmonboard, on fabric8 with the JDK HTTP client.
 *
 * <ul>
 *   <li>{@link dev.vmonboard.k8s.KubernetesCluster}: which cluster and context to talk to.
 *   <li>{@link dev.vmonboard.k8s.KubernetesRegistrar}: registers VMs as Istio WorkloadEntries (or a
 *       WorkloadGroup), with their ServiceAccount, Service and Sidecar; deregisters them.
 *   <li>{@link dev.vmonboard.k8s.ServiceAccountTokenIssuer}: one short-lived token per VM from the
 *       TokenRequest API.
 *   <li>{@link dev.vmonboard.k8s.KubernetesMeshDiscovery}: the mesh snapshot read from the Istio
 *       installation, with preflight checks.
 *   <li>{@link dev.vmonboard.k8s.EmbeddedIstioCluster}: an Istio-ready API server in the JVM, for
 *       tests and examples.
 * </ul>
 *
 * <p>The minimal RBAC these stages need ships as the class-path resource {@code
 * dev/vmonboard/k8s/rbac.yaml}.
 */
package dev.vmonboard.k8s;
