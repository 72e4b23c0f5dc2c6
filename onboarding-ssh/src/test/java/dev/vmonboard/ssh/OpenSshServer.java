package dev.vmonboard.ssh;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH {@code sshd} started by a test on a free loopback port, logging in as the JVM's
 * user, with the same stand-in tools as an {@link EmbeddedVm} first on its sessions' {@code PATH}.
 *
 * <p>When {@code /usr/sbin/sshd} is missing the calling test is skipped, except when the
 * environment variable {@code CI} is set: then it fails, so that CI cannot pass without testing
 * against OpenSSH.
 */
final class OpenSshServer implements AutoCloseable {

  static final Path SSHD = Path.of("/usr/sbin/sshd");

  private final Process process;
  private final int port;
  private final Path dir;
  private final StandIns standIns;

  private OpenSshServer(Process process, int port, Path dir, StandIns standIns) {
    this.process = process;
    this.port = port;
    this.dir = dir;
    this.standIns = standIns;
  }

  /** Skips (or, under CI, fails) the calling test when OpenSSH's server is not installed. */
  static void requireSshd() {
    boolean present =
        Files.isExecutable(SSHD) && Files.isExecutable(Path.of("/usr/bin/ssh-keygen"));
    if (!present && System.getenv("CI") != null) {
      fail("CI is set but " + SSHD + " is missing: install openssh-server (.ci/run does)");
    }
    assumeTrue(present, "OpenSSH server not installed: apt-get install -y openssh-server");
  }

  /** Starts sshd with its files under {@code dir}, authorising these public key lines. */
  static OpenSshServer start(Path dir, List<String> authorizedKeys) throws Exception {
    return start(dir, authorizedKeys, null);
  }

  /**
   * Starts sshd as {@link #start(Path, List)} does, in a private mount namespace ({@code unshare
   * -m}, mounts private) after {@code setup} (a {@code sh} script, e.g. overlay mounts) ran in it,
   * so that every session sees what {@code setup} mounted and nothing else does. {@link #pid()}
   * then names a process in the namespace ({@code /proc/PID/root} shows its files).
   */
  static OpenSshServer startInNamespace(Path dir, List<String> authorizedKeys, String setup)
      throws Exception {
    return start(dir, authorizedKeys, setup);
  }

  private static OpenSshServer start(Path dir, List<String> authorizedKeys, String setup)
      throws Exception {
    requireSshd();
    Files.createDirectories(Path.of("/run/sshd"));
    Path hostKey = dir.resolve("ssh_host_ed25519_key");
    run("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey.toString());
    Files.write(dir.resolve("authorized_keys"), authorizedKeys);
    StandIns standIns =
        StandIns.create(Files.createDirectories(dir.resolve("vm")), StandIns.Http.BOTH);
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Path config = dir.resolve("sshd_config");
    Files.writeString(
        config,
        String.join(
            "\n",
            "ListenAddress 127.0.0.1",
            "Port " + port,
            "HostKey " + hostKey,
            "PidFile " + dir.resolve("sshd.pid"),
            "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "MaxStartups 200",
            "MaxSessions 50",
            "LogLevel ERROR",
            // SHLVL=1 keeps root's ~/.bashrc (pyenv) from running for every command.
            "SetEnv SHLVL=1 PATH=" + standIns.path() + ":/usr/bin:/bin",
            ""));
    run(SSHD.toString(), "-t", "-f", config.toString());
    List<String> command =
        setup == null
            ? List.of(SSHD.toString(), "-D", "-e", "-f", config.toString())
            : List.of(
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                "set -e\n" + setup + "\nexec \"$0\" \"$@\"",
                SSHD.toString(),
                "-D",
                "-e",
                "-f",
                config.toString());
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("sshd.log").toFile())
            .start();
    OpenSshServer server = new OpenSshServer(process, port, dir, standIns);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return server;
      } catch (IOException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          server.close();
          throw new IllegalStateException(
              "sshd did not start: " + Files.readString(dir.resolve("sshd.log")));
        }
        Thread.sleep(20);
      }
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }

  int port() {
    return port;
  }

  /** The process id of sshd (in a namespace: a process of that namespace). */
  long pid() {
    return process.pid();
  }

  Path hostPublicKey() {
    return dir.resolve("ssh_host_ed25519_key.pub");
  }

  /** {@code [127.0.0.1]:PORT ssh-ed25519 KEY}. */
  String knownHostsLine() throws IOException {
    String[] parts = Files.readString(hostPublicKey()).strip().split(" ");
    return "[127.0.0.1]:" + port + " " + parts[0] + " " + parts[1];
  }

  StandIns standIns() {
    return standIns;
  }

  /**
   * A connector that logs in with {@code key} and checks this server's host key strictly, from a
   * {@code known_hosts} file written into {@code dir}.
   */
  SshConnector strictConnector(TestKeys.Key key, Path dir) throws IOException {
    Path knownHosts = Files.writeString(dir.resolve("known_hosts"), knownHostsLine() + "\n");
    return SshConnector.builder()
        .identity(key.identity())
        .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Override
  public void close() {
    try {
      standIns.removeToolbox();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
