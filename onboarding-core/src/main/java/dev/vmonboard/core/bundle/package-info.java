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
 *
 * <p><b>Where renewed certificates live.</b> The agent reads the root certificate from, and writes
 * its renewed key and certificate to, {@code /var/run/secrets/istio} ({@code PROV_CERT}, {@code
 * OUTPUT_CERTS}). In the container style that directory is a directory of the VM, so a re-created
 * container renews from its previous certificate instead of needing a fresh token. It cannot be
 * inside the config directory, which every delivery replaces whole: it is its sibling {@code
 * <config dir>-certs} (e.g. {@code /tmp/istio-proxy-certs}), described by a {@link
 * dev.vmonboard.core.ContainerLaunch.HostDirectory}. Launchers create it owner-only (or refuse one
 * that is a link, another user's, or writable by others) and rename the bundle's root certificate
 * into it before each start, and delete it, when they made it, as they remove the proxy for good.
 * In an offline layout it is {@code etc-certs/} beside {@code etc/}, created by the start script
 * and carried over by later directory deliveries.
 *
 * <p><b>Where the token lives.</b> In the container style the token is {@code tokens/istio-token}
 * in the config directory, and the container mounts the directory {@code <config dir>/tokens} (read
 * only) at {@code /var/run/secrets/tokens}, not the file. A token refresh renames a new file over
 * the old one inside that directory, which the running proxy sees at once; a bind mount of the file
 * itself would pin the old file, and the proxy would read the old token until its container is
 * re-created. In an offline layout it is {@code etc/tokens/istio-token}. The systemd style keeps
 * {@code istio-token} at the bundle's root: the launcher installs a copy of it to {@code
 * /var/run/secrets/tokens/istio-token}, and re-installs it after a refresh ({@link
 * dev.vmonboard.core.ProxyLauncher#reloadToken}).
 */
package dev.vmonboard.core.bundle;
