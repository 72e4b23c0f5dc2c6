/**
 * Reaching VMs over SSH: a {@link dev.vmonboard.ssh.SshTransport} that delivers bundles and two
 * proxy launchers, {@link dev.vmonboard.ssh.ContainerProxyLauncher} (docker or podman) and {@link
 * dev.vmonboard.ssh.SystemdProxyLauncher} (the {@code istio-sidecar} package), on JSch.
 *
 * <p>Connections are configured once in an {@link dev.vmonboard.ssh.SshConnector}: keys ({@link
 * dev.vmonboard.ssh.SshIdentity}, passphrases through a {@link
 * dev.vmonboard.ssh.PassphraseCallback}), an optional password callback and {@code ~/.ssh/config},
 * and a {@link dev.vmonboard.ssh.HostKeyPolicy} that is strict by default. One workload's run opens
 * one connection to its VM, shared by the transport and the launcher, and uses one exec channel to
 * deliver and one to launch and verify.
 *
 * <p>What a VM needs: a POSIX {@code sh}; {@code tar} able to read a ustar stream from standard
 * input ({@code tar -xof -}: GNU, BSD and BusyBox tar); {@code mkdir}, {@code mv}, {@code rm},
 * {@code chmod}, {@code ls} and {@code wc}. The container launcher needs {@code docker} or {@code
 * podman} and {@code curl} or {@code wget}; the systemd launcher {@code systemctl}, {@code cp},
 * {@code chown}, {@code dirname}, {@code touch}, {@code tee}, {@code grep} and {@code curl} or
 * {@code wget}. {@code sudo -n} when asked for. The tests run every script on an {@link
 * dev.vmonboard.ssh.EmbeddedVm} whose {@code PATH} holds only these tools.
 *
 * <p>Every value that reaches a remote shell (config directory, container name, image, paths,
 * arguments) goes through {@link dev.vmonboard.core.Shell#quote}; the whole script reaches the VM
 * as one quoted {@code sh -c} word. Tokens travel only inside the tar stream, never in a command
 * line, a log line or an exception message.
 */
package dev.vmonboard.ssh;
