/**
 * The SDK's bundle builders and offline transports.
 *
 * <ul>
 *   <li>{@link dev.vmonboard.core.bundle.ContainerBundleFactory}: the proxy as a container on the
 *       VM ({@code sidecar.env}, {@code docker run}), from a WorkloadEntry.
 *   <li>{@link dev.vmonboard.core.bundle.SystemdBundleFactory}: Istio's {@code istio-sidecar}
 *       package under systemd ({@code cluster.env}, {@code mesh.yaml}), from a WorkloadGroup or a
 *       WorkloadEntry.
 *   <li>{@link dev.vmonboard.core.bundle.LocalDirectoryTransport} and {@link
 *       dev.vmonboard.core.bundle.ArchiveTransport}: a pipeline that ends in a directory or a
 *       {@code .tgz} instead of a VM, each workload laid out as {@code etc/} and {@code
 *       bin/start-istio-proxy.sh}.
 * </ul>
 *
 * <p>The factories are pure (no I/O) and check every value that reaches a file or a command,
 * refusing bad ones with an {@link dev.vmonboard.core.InvalidInputException} that names the
 * annotation, label or install value and the workload. Everything else here is package-private.
 */
package dev.vmonboard.core.bundle;
