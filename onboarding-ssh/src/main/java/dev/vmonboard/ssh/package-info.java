/**
 * Reaching VMs over SSH: a {@link dev.vmonboard.ssh.SshTransport} that delivers bundles and two
 * proxy launchers, {@link dev.vmonboard.ssh.ContainerProxyLauncher} (docker or podman) and {@link
 * dev.vmonboard.ssh.SystemdProxyLauncher} (the {@code istio-sidecar} package), on JSch.
 *
 * <p>Connections are configured once in an {@link dev.vmonboard.ssh.SshConnector}: keys ({@link
 * dev.vmonboard.ssh.SshIdentity}, passphrases through a {@link
 * dev.vmonboard.ssh.PassphraseCallback}), an optional password callback and {@code ~/.ssh/config},
 * and a {@link dev.vmonboard.ssh.HostKeyPolicy} that is strict by default. One workload's run opens
 * one connection to its VM and one exec channel on it, running {@code sh}; the transport and the
 * launcher share both, and each stage sends its script to that shell and reads back its results,
 * diagnostics and exit status (delivery, launch and verification: one channel in all, where one
 * channel per step costs a round trip or three and a login shell each).
 *
 * <p>What a VM needs: a POSIX {@code sh} (with {@code test -O}, as dash, bash and BusyBox have);
 * {@code id}, {@code ls}, {@code mkdir}, {@code mv} (GNU or BusyBox, for {@code -T}), {@code rm},
 * {@code chmod}, {@code wc}, {@code dirname} and {@code df} for delivery (the files are written by
 * the shell's built-in {@code printf}; {@code df} only to name a full disk). The container launcher
 * needs {@code docker} or {@code podman}, {@code cp} and {@code curl} or {@code wget}; the systemd
 * launcher {@code systemctl}, {@code install}, {@code cp}, {@code grep}, {@code tail}, {@code
 * sha256sum} (offboarding), {@code timeout} (optional: bounds reads of files others can replace)
 * and {@code curl} or {@code wget}. {@code sudo -n} when asked for. The tests run every script on
 * an {@link dev.vmonboard.ssh.EmbeddedVm} whose {@code PATH} holds only these tools.
 *
 * <p>Every path on a VM is hostile until checked ({@code VmPaths}): scripts never follow a link,
 * open a special file or use a directory that someone other than root or the SSH user could have
 * planted or can write, and they delete, restore or adopt only what vmonboard recorded making
 * (README, "Threat model").
 *
 * <p>Every value that reaches the remote shell (config directory, container name, image, paths,
 * arguments, file contents) goes through {@link dev.vmonboard.core.Shell#quote}; the only command
 * line the VM ever receives is {@code sh}. Tokens travel only inside the script on the channel's
 * input, written by the shell's built-in {@code printf}: never in a command line (not even one
 * visible to {@code ps} on the VM), a log line or an exception message.
 */
package dev.vmonboard.ssh;
