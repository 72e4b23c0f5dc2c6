package dev.vmonboard.ssh;

import com.jcraft.jsch.ConfigRepository;
import com.jcraft.jsch.Identity;
import com.jcraft.jsch.IdentityRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.OpenSSHConfig;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.UserInfo;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Opens SSH connections to VMs: who to log in as, with which keys, how to check host keys.
 *
 * <p>Built once and shared by every VM of a run (it is thread-safe). Private keys are read and
 * decrypted once, when first needed. Host keys are checked strictly against {@code
 * ~/.ssh/known_hosts} unless another {@link HostKeyPolicy} is chosen.
 *
 * <pre>{@code
 * SshConnector ssh = SshConnector.builder()
 *     .user("ec2-user")
 *     .identity(SshIdentity.fromFile(Path.of("abz.pem")))
 *     .hostKeyPolicy(HostKeyPolicy.knownHosts(Path.of("fleet_known_hosts")))
 *     .build();
 * }</pre>
 *
 * <p>Where a host's port and user come from, first match wins: the target (the {@code ssh-port} and
 * {@code ssh-user} annotations), the {@code ~/.ssh/config} file if one was given ({@code HostName},
 * {@code Port}, {@code User}, {@code IdentityFile}), this connector's defaults, then port 22 and
 * the local user name.
 */
public final class SshConnector {

  private final String defaultUser;
  private final int defaultPort;
  private final List<SshIdentity> identities;
  private final PasswordCallback password;
  private final ConfigRepository sshConfig;
  private final PassphraseCallback sshConfigPassphrase;
  private final HostKeyPolicy hostKeyPolicy;
  private final Duration connectTimeout;
  private final Duration keepAlive;
  private final Map<String, Identity> loadedKeys = new ConcurrentHashMap<>();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong channels = new AtomicLong();
  private volatile ShellTap tap;

  private SshConnector(Builder b) {
    this.defaultUser = b.user;
    this.defaultPort = b.port;
    this.identities = List.copyOf(b.identities);
    this.password = b.password;
    this.sshConfig = b.sshConfig;
    this.sshConfigPassphrase = b.sshConfigPassphrase;
    this.hostKeyPolicy = b.hostKeyPolicy;
    this.connectTimeout = b.connectTimeout;
    this.keepAlive = b.keepAlive;
  }

  /** A builder with the safe defaults: strict {@code ~/.ssh/known_hosts}, 10 s connect timeout. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures an {@link SshConnector}. */
  public static final class Builder {
    private String user;
    private int port = 22;
    private final List<SshIdentity> identities = new ArrayList<>();
    private PasswordCallback password;
    private ConfigRepository sshConfig;
    private PassphraseCallback sshConfigPassphrase;
    private HostKeyPolicy hostKeyPolicy = HostKeyPolicy.defaultKnownHosts();
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration keepAlive = Duration.ofSeconds(15);

    private Builder() {}

    /** The login name when neither the target nor the SSH config names one. */
    public Builder user(String user) {
      this.user = Objects.requireNonNull(user, "user");
      return this;
    }

    /** The port when neither the target nor the SSH config names one (22 if unset). */
    public Builder port(int port) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("not a TCP port: " + port);
      }
      this.port = port;
      return this;
    }

    /** Adds a private key to log in with (several may be added; they are tried in order). */
    public Builder identity(SshIdentity identity) {
      identities.add(Objects.requireNonNull(identity, "identity"));
      return this;
    }

    /** Allows password login; the callback is asked when a server wants a password. */
    public Builder password(PasswordCallback password) {
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Reads an OpenSSH client config file (usually {@code ~/.ssh/config}) for {@code HostName},
     * {@code Port}, {@code User} and {@code IdentityFile}; encrypted identity files get their
     * passphrase from the callback.
     */
    public Builder sshConfig(Path file, PassphraseCallback passphraseForItsKeys)
        throws IOException {
      this.sshConfig = OpenSSHConfig.parseFile(file.toString());
      this.sshConfigPassphrase = Objects.requireNonNull(passphraseForItsKeys);
      return this;
    }

    /** How server host keys are checked ({@link HostKeyPolicy#defaultKnownHosts()} if unset). */
    public Builder hostKeyPolicy(HostKeyPolicy policy) {
      this.hostKeyPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** How long to wait for the TCP connection and the SSH handshake (10 s if unset). */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connect timeout");
      return this;
    }

    /** How often to send a keep-alive on an idle connection (15 s if unset). */
    public Builder keepAlive(Duration interval) {
      this.keepAlive = positive(interval, "keep-alive interval");
      return this;
    }

    /** The connector; nothing is read or connected yet. */
    public SshConnector build() {
      if (identities.isEmpty() && password == null && sshConfig == null) {
        throw new IllegalStateException(
            "an SshConnector needs a way to log in: an identity, a password callback or an SSH"
                + " config with IdentityFile entries");
      }
      return new SshConnector(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(what + " must be positive and below 24 days: " + d);
      }
      return d;
    }
  }

  /**
   * Connects and logs in.
   *
   * @param host the host name or address (or a {@code Host} alias of the SSH config)
   * @param port the port, or 0 to take it from the SSH config or the defaults
   * @param user the login name, or {@code null} to take it from the SSH config or the defaults
   */
  SshConnection connect(String host, int port, String user) throws SshException {
    ConfigRepository.Config config = sshConfig == null ? null : sshConfig.getConfig(host);
    String hostName = firstNonNull(config == null ? null : config.getHostname(), host);
    int effectivePort =
        port > 0 ? port : config != null && config.getPort() > 0 ? config.getPort() : defaultPort;
    String effectiveUser =
        firstNonNull(
            user,
            config == null ? null : config.getUser(),
            defaultUser,
            System.getProperty("user.name"));
    String where = effectiveUser + "@" + hostName + ":" + effectivePort;

    List<Identity> keys = new ArrayList<>();
    for (SshIdentity identity : identities) {
      keys.add(load(identity, where));
    }
    if (config != null && config.getValues("IdentityFile") != null) {
      for (String file : config.getValues("IdentityFile")) {
        keys.add(load(SshIdentity.fromFile(expandHome(file), sshConfigPassphrase), where));
      }
    }

    HostKeyVerifier verifier;
    try {
      verifier = new HostKeyVerifier(hostKeyPolicy);
    } catch (IOException e) {
      throw new SshException(where, "cannot check the host key of " + where + ": " + e, false, e);
    }
    JSch jsch = new JSch();
    jsch.setInstanceLogger(Slf4jJschLogger.INSTANCE);
    Session session;
    try {
      session = jsch.getSession(effectiveUser, hostName, effectivePort);
      session.setHostKeyRepository(verifier);
      session.setIdentityRepository(new FixedIdentities(keys));
      session.setConfig("StrictHostKeyChecking", "yes");
      KeyExchanges.configure(session);
      // Two round trips fewer per login (about 100 ms at 25 ms each way): no "none" request to
      // learn the methods, and each key is offered signed instead of being asked about first.
      session.setConfig("enable_auth_none", "no");
      session.setConfig("enable_pubkey_auth_query", "no");
      session.setConfig(
          "PreferredAuthentications", password == null ? "publickey" : "publickey,password");
      if (password != null) {
        session.setUserInfo(new PasswordPrompt(password, effectiveUser, hostName));
      }
      session.setServerAliveInterval((int) keepAlive.toMillis());
      session.setServerAliveCountMax(3);
      session.setDaemonThread(true);
      session.connect((int) connectTimeout.toMillis());
    } catch (JSchException e) {
      throw connectFailure(where, keys, verifier, e);
    }
    connections.incrementAndGet();
    ShellTap t = tap;
    return new SshConnection(session, where, channels, t == null ? null : t.connected(where));
  }

  /** Lets {@code tap} see what the shells of the connections opened from now on are sent. */
  void tap(ShellTap tap) {
    this.tap = tap;
  }

  /** How many connections this connector has opened (tests and benchmarks count them). */
  long connectionsOpened() {
    return connections.get();
  }

  /** How many exec channels the connections of this connector have opened. */
  long channelsOpened() {
    return channels.get();
  }

  private SshException connectFailure(
      String where, List<Identity> keys, HostKeyVerifier verifier, JSchException e) {
    if (verifier.rejection() != null) {
      return new SshException(
          where, "SSH to " + where + " refused: " + verifier.rejection(), false, e);
    }
    Throwable cause = e.getCause();
    if (cause instanceof ConnectException
        || cause instanceof SocketTimeoutException
        || cause instanceof NoRouteToHostException
        || cause instanceof UnknownHostException
        || String.valueOf(e.getMessage()).startsWith("timeout")) {
      return new SshException(
          where,
          "cannot connect to "
              + where
              + " within "
              + connectTimeout.toSeconds()
              + " s: "
              + (cause != null ? cause : e.getMessage())
              + ". Check that the VM is up, that sshd listens on that port and that no firewall"
              + " drops the connection",
          true,
          e);
    }
    if (String.valueOf(e.getMessage()).startsWith("Auth")) {
      String offered =
          keys.stream().map(Identity::getName).collect(Collectors.joining(", ", "[", "]"));
      return new SshException(
          where,
          "login to "
              + where
              + " failed: the server accepted none of the keys "
              + offered
              + (password != null ? " nor the password" : "")
              + ". Check the user name and that the VM's authorized_keys holds the public key",
          false,
          e);
    }
    return new SshException(
        where, "SSH to " + where + " failed: " + e.getMessage(), cause instanceof IOException, e);
  }

  private Identity load(SshIdentity identity, String where) throws SshException {
    Identity known = loadedKeys.get(identity.name());
    if (known != null) {
      return known;
    }
    synchronized (loadedKeys) {
      known = loadedKeys.get(identity.name());
      if (known != null) {
        return known;
      }
      Identity loaded = decrypt(identity, where);
      loadedKeys.put(identity.name(), loaded);
      return loaded;
    }
  }

  private static Identity decrypt(SshIdentity identity, String where) throws SshException {
    byte[] privateKey;
    try {
      privateKey = identity.readPrivateKey();
    } catch (IOException e) {
      throw new SshException(
          where, "cannot read the private key " + identity.name() + ": " + e, false, e);
    }
    Identity loaded;
    try {
      JSch reader = new JSch();
      reader.setInstanceLogger(Slf4jJschLogger.INSTANCE);
      reader.addIdentity(identity.name(), privateKey, null, null);
      loaded = reader.getIdentityRepository().getIdentities().get(0);
    } catch (JSchException e) {
      throw new SshException(
          where,
          "the private key "
              + identity.name()
              + " is not a key this SDK reads (OpenSSH or PEM; ed25519, ECDSA or RSA): "
              + e.getMessage(),
          false,
          e);
    } finally {
      Arrays.fill(privateKey, (byte) 0);
    }
    if (!loaded.isEncrypted()) {
      return loaded;
    }
    char[] passphrase = identity.passphrase().passphraseFor(identity.name());
    if (passphrase == null) {
      throw new SshException(
          where,
          "the private key "
              + identity.name()
              + " is encrypted and no passphrase was given: pass a PassphraseCallback",
          false);
    }
    byte[] bytes = utf8(passphrase);
    Arrays.fill(passphrase, '\0');
    try {
      new JSch().addIdentity(loaded, bytes);
    } catch (JSchException e) {
      // JSch reports a wrong passphrase by leaving the key encrypted; handled below.
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
    if (loaded.isEncrypted()) {
      throw new SshException(
          where, "wrong passphrase for the private key " + identity.name(), false);
    }
    return loaded;
  }

  private static byte[] utf8(char[] chars) {
    ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    if (encoded.hasArray()) {
      Arrays.fill(encoded.array(), (byte) 0);
    }
    return bytes;
  }

  private static Path expandHome(String file) {
    if (file.startsWith("~/")) {
      return Path.of(System.getProperty("user.home"), file.substring(2));
    }
    return Path.of(file);
  }

  @SafeVarargs
  private static <T> T firstNonNull(T... values) {
    for (T v : values) {
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "SshConnector[user="
        + defaultUser
        + ", keys="
        + identities
        + ", hostKeys="
        + hostKeyPolicy
        + "]";
  }

  /** The keys one session offers: the connector's, then the SSH config's for that host. */
  private static final class FixedIdentities implements IdentityRepository {
    private final List<Identity> keys;

    FixedIdentities(List<Identity> keys) {
      this.keys = keys;
    }

    @Override
    public String getName() {
      return "vmonboard";
    }

    @Override
    public int getStatus() {
      return RUNNING;
    }

    @Override
    public Vector<Identity> getIdentities() {
      return new Vector<>(keys);
    }

    @Override
    public boolean add(byte[] identity) {
      return false;
    }

    @Override
    public boolean remove(byte[] blob) {
      return false;
    }

    @Override
    public void removeAll() {}
  }

  /** Answers JSch's password prompt from the callback; declines every other question. */
  private static final class PasswordPrompt implements UserInfo {
    private final PasswordCallback callback;
    private final String user;
    private final String host;
    private String password;

    PasswordPrompt(PasswordCallback callback, String user, String host) {
      this.callback = callback;
      this.user = user;
      this.host = host;
    }

    @Override
    public boolean promptPassword(String message) {
      char[] given = callback.passwordFor(user, host);
      if (given == null) {
        return false;
      }
      password = new String(given);
      Arrays.fill(given, '\0');
      return true;
    }

    @Override
    public String getPassword() {
      String p = password;
      password = null;
      return p;
    }

    @Override
    public String getPassphrase() {
      return null;
    }

    @Override
    public boolean promptPassphrase(String message) {
      return false;
    }

    @Override
    public boolean promptYesNo(String message) {
      return false;
    }

    @Override
    public void showMessage(String message) {}
  }
}
