package dev.vmonboard.controller;

import dev.vmonboard.k8s.controller.VmCredentials;
import dev.vmonboard.k8s.controller.VmStages;
import dev.vmonboard.k8s.controller.VmStagesFactory;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.HostKeyPolicy;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshIdentity;
import dev.vmonboard.ssh.SshTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * The controller's VM side over SSH: {@link SshTransport} and {@link ContainerProxyLauncher} with
 * the key, known hosts and user of the credentials Secret ({@code ssh-privatekey}, {@code
 * known_hosts}, {@code ssh-user}, optional {@code ssh-passphrase}). Host keys are checked strictly
 * against the Secret's {@code known_hosts}, written owner-only to a temporary file.
 */
public final class SshVmStages implements VmStagesFactory {

  private final Duration readinessTimeout;
  private final Duration pollInterval;

  /**
   * SSH stages whose launcher waits up to {@code readinessTimeout} for a started proxy, checking
   * every {@code pollInterval}.
   */
  public SshVmStages(Duration readinessTimeout, Duration pollInterval) {
    this.readinessTimeout = readinessTimeout;
    this.pollInterval = pollInterval;
  }

  @Override
  public VmStages create(VmCredentials credentials) {
    byte[] key = credentials.require(VmCredentials.PRIVATE_KEY);
    String knownHosts =
        credentials
            .knownHosts()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        credentials.source()
                            + " has no '"
                            + VmCredentials.KNOWN_HOSTS
                            + "': the VMs' host keys are checked strictly"));
    String passphrase = credentials.passphrase().orElse(null);
    SshConnector.Builder connector =
        SshConnector.builder()
            .identity(
                SshIdentity.fromPrivateKey(
                    credentials.source(),
                    key,
                    name -> passphrase == null ? null : passphrase.toCharArray()))
            .hostKeyPolicy(HostKeyPolicy.knownHosts(ownerOnlyFile(knownHosts)));
    credentials.user().ifPresent(connector::user);
    SshConnector ssh = connector.build();
    return VmStages.of(
        SshTransport.using(ssh),
        ContainerProxyLauncher.builder(ssh)
            .readinessTimeout(readinessTimeout)
            .pollInterval(pollInterval)
            .build());
  }

  private static Path ownerOnlyFile(String content) {
    try {
      Path file =
          Files.createTempFile(
              "vmonboard-known-hosts-",
              "",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      file.toFile().deleteOnExit();
      return Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the known_hosts of the Secret", e);
    }
  }
}
