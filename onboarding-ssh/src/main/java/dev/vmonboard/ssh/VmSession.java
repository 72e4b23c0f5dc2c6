package dev.vmonboard.ssh;

import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one SSH connection of one workload's run to its VM, and the one {@link RemoteShell} on it,
 * shared by the transport and the launcher through {@link StageContext#shared}: the first stage
 * opens them, the pipeline closes them at the end of the run. Every stage's script runs in that
 * shell, so a run uses one connection and one exec channel. A connection that dropped, or a shell
 * abandoned after a timeout (transient failures the pipeline retries), is opened anew.
 */
final class VmSession implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(VmSession.class);
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private final SshConnector connector;
  private final Target target;
  private volatile SshConnection connection;
  private volatile RemoteShell shell;
  private volatile boolean closed;
  private int connections;
  private int channels;
  private int scripts;

  /**
   * The generation of the bundle this run delivers: random, the same for every attempt of the run,
   * written with the bundle, so that a retry finds out whether an earlier attempt's swap happened.
   */
  private final String generation = newGeneration();

  /** What this run's scripts set aside for a rollback (true) or found nothing to set aside for. */
  private final Map<String, Boolean> keptAside = new HashMap<>();

  private VmSession(SshConnector connector, Target target) {
    this.connector = connector;
    this.target = target;
  }

  /** A line of a dry-run plan: {@code ssh [USER@]HOST:PORT: WHAT}. */
  static String plan(Target target, String what) {
    return "ssh "
        + target.user().map(u -> u + "@").orElse("")
        + target.host()
        + ":"
        + target.port()
        + ": "
        + what;
  }

  /**
   * Notes whether a script of this run that replaces {@code what} (the bundle, the container) set
   * the old one aside for a rollback. Once set aside, it counts as kept (a retried launch that
   * finds nothing more to set aside does not forget it) until {@link #releasedAside} says it is
   * gone.
   */
  synchronized void keptAside(String what, boolean kept) {
    keptAside.merge(what, kept, Boolean::logicalOr);
  }

  /** Notes that what was set aside of {@code what} was restored or dropped. */
  synchronized void releasedAside(String what) {
    keptAside.put(what, false);
  }

  /**
   * Whether this run knows that nothing of {@code what} is set aside, so that dropping or restoring
   * it needs no round trip to the VM. False when this run has not said (e.g. a stage called on its
   * own): the VM is then asked.
   */
  synchronized boolean nothingKeptAside(String what) {
    return Boolean.FALSE.equals(keptAside.get(what));
  }

  /**
   * The generation of {@code bundle} delivered by this run: the run's random generation and the
   * bundle's content, hashed. Every attempt to deliver the same bundle in this run writes the same
   * generation; another bundle (a run that delivers twice) gets another one.
   */
  String generation(dev.vmonboard.core.Bundle bundle) {
    try {
      java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
      digest.update(generation.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      for (dev.vmonboard.core.BundleFile file : bundle.files()) {
        byte[] path = file.path().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        digest.update(
            java.nio.ByteBuffer.allocate(12)
                .putInt(path.length)
                .putInt(file.mode())
                .putInt(file.size())
                .array());
        digest.update(path);
        digest.update(file.content());
      }
      return java.util.HexFormat.of().formatHex(digest.digest(), 0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String newGeneration() {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    return java.util.HexFormat.of().formatHex(bytes);
  }

  /** The run's session with {@code target}; the first caller's connector opens it. */
  static VmSession of(SshConnector connector, Target target, StageContext context) {
    return context.shared(VmSession.class, () -> new VmSession(connector, target));
  }

  /**
   * Runs {@code script} in the run's shell on the VM, within {@code limit} and the stage's
   * deadline.
   *
   * @param what what the script does, for messages ("deliver the bundle")
   * @throws StageException if the VM cannot be reached or the script cannot finish (transient)
   */
  synchronized ExecResult run(
      String what, RemoteScript script, Duration limit, StageContext context) {
    checkOpen(what, context);
    SshConnection c = connection(context);
    Duration timeout = limit.compareTo(context.remaining()) < 0 ? limit : context.remaining();
    MDC.put("host", c.where());
    try {
      if (shell == null || !shell.isUsable()) {
        if (shell != null) {
          LOG.debug("the shell on {} is unusable; opening a new one", c.where());
          shell.close();
        }
        shell = null;
        shell = c.openShell(what);
      }
      scripts++;
      return shell.run(what, script, timeout.isZero() ? Duration.ofMillis(1) : timeout);
    } catch (SshException e) {
      throw StageException.transientFailure(
          what + " for " + context.workload() + ": " + e.getMessage(),
          "check the VM and its network, then run again",
          e);
    } finally {
      MDC.remove("host");
    }
  }

  private SshConnection connection(StageContext context) {
    if (connection != null && connection.isOpen()) {
      return connection;
    }
    if (connection != null) {
      LOG.debug("connection to {} was lost; reconnecting", connection.where());
      channels += connection.channelsOpened();
      connection.close();
      shell = null;
    }
    try {
      connection = connector.connect(target.host(), target.port(), target.user().orElse(null));
      connections++;
      if (closed) {
        connection.close(); // the run ended while this connection was being made
        checkOpen("connect", context);
      }
      return connection;
    } catch (SshException e) {
      String message = "cannot reach the VM of " + context.workload() + ": " + e.getMessage();
      String hint =
          e.isTransient()
              ? "check that the VM is up and reachable on " + target.host() + ":" + target.port()
              : "fix the SSH credentials or host key for " + target.host() + ", then run again";
      throw new StageException(message, hint, e.isTransient(), e);
    }
  }

  /**
   * The failure of a script that ran but exited non-zero: exit code and the last lines of its
   * stderr (which the SDK's scripts keep free of secrets), with what to do about it.
   */
  StageException failure(
      String what, ExecResult result, StageContext context, boolean transientFailure, String hint) {
    String where = connection == null ? target.host() : connection.where();
    return new StageException(
        what
            + " for "
            + context.workload()
            + " on "
            + where
            + " failed with exit code "
            + result.exitCode()
            + ": "
            + result.lastErrorLines(5),
        hint,
        transientFailure,
        null);
  }

  /** Refuses to start anything once the run has closed this session (it ended meanwhile). */
  private void checkOpen(String what, StageContext context) {
    if (closed) {
      throw StageException.permanent(
          "cannot " + what + " for " + context.workload() + ": its run has ended", "run it again");
    }
  }

  /** How many scripts this run sent to the VM: one round trip each. */
  synchronized int scriptsRun() {
    return scripts;
  }

  /** How many SSH connections this run opened (1 unless one dropped). */
  synchronized int connectionsOpened() {
    return connections;
  }

  /** How many exec channels this run opened over all its connections. */
  synchronized int channelsOpened() {
    return channels + (connection == null ? 0 : connection.channelsOpened());
  }

  /**
   * Closes the shell and the connection. Not synchronized: when the run ends from another thread
   * (its stage was abandoned), this must reach a script in progress, which holds the lock, and end
   * it; the session takes no further script.
   */
  @Override
  public void close() {
    closed = true;
    RemoteShell openShell = shell;
    if (openShell != null) {
      openShell.close();
    }
    SshConnection open = connection;
    if (open != null) {
      open.close();
    }
  }
}
