package dev.vmonboard.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.KeySetPublickeyAuthenticator;
import org.apache.sshd.server.shell.InvertedShellWrapper;

/**
 * A stand-in virtual machine reachable over SSH, for tests, demos and host applications' own tests.
 *
 * <p>One call starts Apache MINA SSHD on a free loopback port with a freshly generated ed25519 host
 * key. Exec requests run for real as {@code /bin/sh -c COMMAND}, as the JVM's user, in a temporary
 * directory that stands for the VM's filesystem ({@link #root()}); put every config directory
 * inside it. The commands' {@code PATH} holds only:
 *
 * <ul>
 *   <li>a stand-in container runtime ({@code docker} and {@code podman}) that records every
 *       invocation, keeps its "containers" in state files and answers {@code run -d}, {@code ps},
 *       {@code inspect}, {@code rm -f}, {@code stop}, {@code start}, {@code rename} and {@code
 *       logs} like the real one;
 *   <li>a stand-in {@code curl} and/or {@code wget} that answers the proxy's readiness URL {@code
 *       http://localhost:15021/healthz/ready} while a container runs or the {@code istio} unit is
 *       active;
 *   <li>a stand-in {@code systemctl} that knows the unit {@code istio}, and a {@code sudo} that
 *       runs its command;
 *   <li>links to the real POSIX tools the SDK documents as its requirements on a VM.
 * </ul>
 *
 * Several VMs can run at once in one JVM. Any user name is accepted; authentication is by the
 * public keys given to the builder (and a password, if one was given). Requires {@code sshd-core}
 * and {@code bcprov-jdk18on} on the class path (optional dependencies of this module).
 *
 * <pre>{@code
 * try (EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(publicKeyLine).start()) {
 *   Files.writeString(knownHosts, vm.knownHostsLine() + "\n");
 *   // connect to vm.host():vm.port(), use vm.root().resolve("etc/istio-proxy") as config dir
 * }
 * }</pre>
 */
public final class EmbeddedVm implements AutoCloseable {

  /** Which HTTP client the VM offers for readiness probes. */
  public enum HttpClient {
    /** Only {@code curl}. */
    CURL,
    /** Only {@code wget}. */
    WGET,
    /** Both (the default). */
    BOTH,
    /** Neither: readiness cannot be probed. */
    NONE
  }

  private final SshServer server;
  private final Path base;
  private final Path root;
  private final StandIns standIns;
  private final PublicKey hostKey;
  private final List<String> commands = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger sessions = new AtomicInteger();

  private EmbeddedVm(SshServer server, Path base, Path root, StandIns standIns, PublicKey hostKey) {
    this.server = server;
    this.base = base;
    this.root = root;
    this.standIns = standIns;
    this.hostKey = hostKey;
  }

  /** A builder; at least one authorised key or a password is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures and starts an {@link EmbeddedVm}. */
  public static final class Builder {
    private final List<PublicKey> keys = new ArrayList<>();
    private String password;
    private HttpClient http = HttpClient.BOTH;

    private Builder() {}

    /** Authorises a public key given as an OpenSSH line ({@code ssh-ed25519 AAAA... comment}). */
    public Builder authorizedKey(String publicKeyLine) {
      try {
        keys.add(
            PublicKeyEntry.parsePublicKeyEntry(publicKeyLine.strip())
                .resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING));
      } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
        throw new IllegalArgumentException("not an OpenSSH public key line: " + e.getMessage(), e);
      }
      return this;
    }

    /** Authorises every key of an {@code authorized_keys} file. */
    public Builder authorizedKeys(Path file) throws IOException {
      for (AuthorizedKeyEntry entry : AuthorizedKeyEntry.readAuthorizedKeys(file)) {
        try {
          keys.add(entry.resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING));
        } catch (GeneralSecurityException e) {
          throw new IOException("unreadable key in " + file + ": " + e.getMessage(), e);
        }
      }
      return this;
    }

    /** Also accepts password authentication with this password, for any user. */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password);
      return this;
    }

    /** Which HTTP client the VM offers for readiness probes ({@link HttpClient#BOTH} if unset). */
    public Builder httpClient(HttpClient http) {
      this.http = Objects.requireNonNull(http);
      return this;
    }

    /** Starts the VM on a free loopback port. */
    public EmbeddedVm start() throws IOException {
      if (keys.isEmpty() && password == null) {
        throw new IllegalStateException("an EmbeddedVm needs an authorised key or a password");
      }
      Path base = Files.createTempDirectory("vmonboard-vm-");
      Path root = Files.createDirectory(base.resolve("fs"));
      StandIns standIns = StandIns.create(base, StandIns.Http.valueOf(http.name()));
      KeyPair hostKey;
      try {
        hostKey = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot generate an ed25519 host key (is bcprov missing?)", e);
      }
      SshServer server = SshServer.setUpDefaultServer();
      EmbeddedVm vm = new EmbeddedVm(server, base, root, standIns, hostKey.getPublic());
      server.setHost("127.0.0.1");
      server.setPort(0);
      server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
      if (!keys.isEmpty()) {
        server.setPublickeyAuthenticator(new KeySetPublickeyAuthenticator("embedded-vm", keys));
      }
      if (password != null) {
        String expected = password;
        server.setPasswordAuthenticator((user, given, session) -> expected.equals(given));
      }
      Map<String, String> env =
          Map.of(
              "PATH", standIns.path(),
              "HOME", root.toString(),
              "SHELL", "/bin/sh",
              "LANG", "C",
              "USER", System.getProperty("user.name"),
              "LOGNAME", System.getProperty("user.name"));
      server.addSessionListener(
          new SessionListener() {
            @Override
            public void sessionCreated(Session session) {
              vm.sessions.incrementAndGet();
            }
          });
      server.setCommandFactory(
          (channel, command) -> {
            vm.commands.add(command);
            return new InvertedShellWrapper(new VmProcessShell(command, root, env));
          });
      try {
        server.start();
      } catch (IOException | RuntimeException e) {
        vm.close();
        throw e;
      }
      return vm;
    }
  }

  /** The address to connect to: always {@code 127.0.0.1}. */
  public String host() {
    return "127.0.0.1";
  }

  /** The port the VM listens on. */
  public int port() {
    return server.getPort();
  }

  /** The directory that stands for the VM's filesystem: its commands run in it (also HOME). */
  public Path root() {
    return root;
  }

  /** The VM's line for a {@code known_hosts} file: {@code [127.0.0.1]:PORT ssh-ed25519 KEY}. */
  public String knownHostsLine() {
    return "[" + host() + "]:" + port() + " " + PublicKeyEntry.toString(hostKey);
  }

  /** The host key's fingerprint as OpenSSH prints it: {@code SHA256:...}. */
  public String hostKeyFingerprint() {
    String[] parts = PublicKeyEntry.toString(hostKey).split(" ");
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(Base64.getDecoder().decode(parts[1]));
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** How many SSH connections the VM has accepted. */
  public int connectionsAccepted() {
    return sessions.get();
  }

  /** Every command string the VM received in an exec request, in order. */
  public List<String> receivedCommands() {
    synchronized (commands) {
      return List.copyOf(commands);
    }
  }

  /**
   * Every call of a stand-in tool ({@code docker}, {@code podman}, {@code curl}, {@code wget},
   * {@code systemctl}, {@code sudo}), in order: the tool's name, then each argument exactly as the
   * tool received it.
   */
  public List<List<String>> toolCalls() {
    return standIns.calls();
  }

  /** The stand-in runtime's containers: name to status ({@code running} or {@code exited}). */
  public Map<String, String> containers() {
    return standIns.containers();
  }

  /**
   * Makes the next container run under this name exit at once; started again, that container exits
   * again (a container run earlier under the name is not affected).
   */
  public void containerExitsAtOnce(String containerName) {
    standIns.containerExitsAtOnce(containerName);
  }

  /**
   * Makes every later {@code rm} and {@code stop} of the container of this name fail, as a stuck
   * container does.
   */
  public void containerResistsRemoval(String containerName) {
    standIns.containerResistsRemoval(containerName);
  }

  /** Makes the readiness endpoint never answer ready. */
  public void neverReady() {
    standIns.control("never-ready", "");
  }

  /** Makes the readiness endpoint fail this many probes before it may answer ready. */
  public void readyAfterProbes(int probes) {
    standIns.control("ready-after", Integer.toString(probes));
  }

  /** Whether the stand-in systemd unit (for example {@code istio}) is active. */
  public boolean unitActive(String unit) {
    return standIns.unitFlag(unit, "active");
  }

  /** Whether the stand-in systemd unit (for example {@code istio}) is enabled. */
  public boolean unitEnabled(String unit) {
    return standIns.unitFlag(unit, "enabled");
  }

  /** Stops the server and deletes the VM's directories. */
  @Override
  public void close() {
    try {
      server.stop(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(base);
    }
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete the embedded VM's files in " + dir, e);
    }
  }

  /** The stand-in tools and their state (for the module's own tests and benchmarks). */
  StandIns standIns() {
    return standIns;
  }

  @Override
  public String toString() {
    return "EmbeddedVm[" + host() + ":" + port() + ", root " + root + "]";
  }
}
