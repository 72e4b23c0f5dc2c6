package dev.vmonboard.ssh;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in SSH connection to one VM, and what the SDK runs on it: a {@link RemoteShell} that
 * runs the scripts of a workload's run in one exec channel, or a single command in an exec channel
 * of its own, with bytes on its standard input ({@link #exec}; tests and the benchmark's old-tool
 * pattern).
 *
 * <p>Commands are built by the callers with {@code Shell.quote}/{@code Shell.join}; this class
 * never logs a command or its input (a bundle holds a token), only what the caller calls it.
 */
final class SshConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SshConnection.class);
  private static final int MAX_STDOUT = 4 << 20;
  private static final int STDERR_TAIL = 8 << 10;

  private final Session session;
  private final String where;
  private final AtomicInteger channels = new AtomicInteger();
  private final AtomicLong allChannels;
  private final ShellTap.Connection tap;

  SshConnection(Session session, String where, AtomicLong allChannels, ShellTap.Connection tap) {
    this.session = session;
    this.where = where;
    this.allChannels = allChannels;
    this.tap = tap;
  }

  /** {@code user@host:port}, for messages. */
  String where() {
    return where;
  }

  /** How many exec channels this connection has opened. */
  int channelsOpened() {
    return channels.get();
  }

  boolean isOpen() {
    return session.isConnected();
  }

  /**
   * Runs {@code command} in one exec channel, feeds it {@code stdin} then end-of-file, and waits
   * for it to finish; a non-zero exit is a result, not an exception.
   *
   * @param what a short description for errors and logs ("deliver the bundle"), never secret
   * @throws SshException if the channel cannot be opened, the connection drops, or the command does
   *     not finish within {@code timeout} (the channel is then closed)
   */
  ExecResult exec(String what, String command, byte[] stdin, Duration timeout) throws SshException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Capture out = new Capture(MAX_STDOUT, false);
    Capture err = new Capture(STDERR_TAIL, true);
    ChannelExec channel;
    Nudge nudge = null;
    try {
      channel = (ChannelExec) session.openChannel("exec");
      if (opened() == 0) {
        nudge = nudge();
      }
      channel.setCommand(command.getBytes(StandardCharsets.UTF_8));
      channel.setInputStream(new ByteArrayInputStream(stdin));
      channel.setOutputStream(out, false);
      channel.setErrStream(err, false);
      channel.connect((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
    } catch (JSchException e) {
      throw new SshException(
          where,
          "cannot " + what + " on " + where + ": the SSH channel did not open: " + e.getMessage(),
          true,
          e);
    }
    long opened = System.nanoTime();
    long eof = opened;
    try {
      boolean finished = out.awaitClosed(deadline);
      eof = System.nanoTime();
      while (finished && !channel.isClosed()) {
        if (System.nanoTime() - deadline > 0) {
          finished = false;
          break;
        }
        Thread.sleep(1);
      }
      if (!finished) {
        throw new SshException(
            where,
            "cannot "
                + what
                + " on "
                + where
                + ": no answer within "
                + timeout.toMillis()
                + " ms; the remote command was abandoned"
                + tail(err),
            true);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SshException(
          where, "interrupted while waiting to " + what + " on " + where, true, e);
    } finally {
      channel.disconnect();
      if (nudge != null) {
        nudge.interrupt();
      }
    }
    if (LOG.isDebugEnabled()) {
      long end = System.nanoTime();
      LOG.debug(
          "{} on {}: channel open in {} ms, output ended after {} ms, closed after {} ms",
          what,
          where,
          (opened - (deadline - timeout.toNanos())) / 1_000_000,
          (eof - opened) / 1_000_000,
          (end - eof) / 1_000_000);
    }
    int exit = channel.getExitStatus();
    if (exit < 0) {
      boolean dropped = !session.isConnected();
      throw new SshException(
          where,
          "cannot "
              + what
              + " on "
              + where
              + (dropped
                  ? ": the connection was lost before the command finished"
                  : ": the command ended without an exit status (signal "
                      + channel.getExitSignal()
                      + ")")
              + tail(err),
          true);
    }
    return new ExecResult(exit, out.bytes(), err.text());
  }

  /**
   * Opens a {@link RemoteShell}: one exec channel running {@code sh}, which runs the scripts of a
   * run one after the other.
   *
   * @param what what the shell is opened for, for errors ("deliver the bundle"), never secret
   * @throws SshException if the channel does not open (transient)
   */
  RemoteShell openShell(String what) throws SshException {
    Nudge nudge = opened() == 0 ? nudge() : null;
    try {
      return RemoteShell.open(session, where, tap);
    } catch (JSchException | IOException e) {
      throw new SshException(
          where,
          "cannot " + what + " on " + where + ": the SSH channel did not open: " + e.getMessage(),
          true,
          e);
    } finally {
      if (nudge != null) {
        nudge.interrupt();
      }
    }
  }

  /** Counts a channel about to open; returns how many this connection had opened before. */
  private int opened() {
    allChannels.incrementAndGet();
    return channels.getAndIncrement();
  }

  /**
   * Works around a stall of about 40 ms on the first channel of a connection: OpenSSH sends a
   * message of its own right after login ({@code hostkeys-00@openssh.com}); the client's kernel
   * delays its ACK, and Nagle's algorithm on the server then holds the reply to the channel open
   * until that ACK. A few SSH_MSG_IGNORE packets while the channel opens make the client send, and
   * so ACK, at once: after 2, 6, 14, 30, 62 and 126 ms (the message arrives half a round trip after
   * the login), fewer the sooner the channel opens; each costs both ends a little CPU. They are
   * sent by one timer thread shared by all connections, not a thread of their own each.
   */
  private Nudge nudge() {
    Nudge nudge = new Nudge(session, where);
    nudge.next(2);
    return nudge;
  }

  /** The SSH_MSG_IGNOREs of one channel opening; {@link #interrupt} ends them. */
  private static final class Nudge {
    private static final ScheduledExecutorService TIMER =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "vmonboard-ssh-nudge");
              thread.setDaemon(true);
              return thread;
            });

    private final Session session;
    private final String where;
    private ScheduledFuture<?> pending;
    private boolean ended;

    Nudge(Session session, String where) {
      this.session = session;
      this.where = where;
    }

    private synchronized void next(int waitMillis) {
      if (!ended && waitMillis <= 64) {
        pending = TIMER.schedule(() -> send(waitMillis), waitMillis, TimeUnit.MILLISECONDS);
      }
    }

    private void send(int waited) {
      synchronized (this) {
        if (ended) {
          return;
        }
      }
      try {
        session.sendIgnore();
      } catch (Exception e) {
        LOG.debug("could not send an SSH_MSG_IGNORE to {}: {}", where, e.toString());
        return;
      }
      next(waited * 2);
    }

    synchronized void interrupt() {
      ended = true;
      if (pending != null) {
        pending.cancel(false);
      }
    }
  }

  private static String tail(Capture err) {
    String text = new ExecResult(0, new byte[0], err.text()).lastErrorLines(3);
    return text.isEmpty() ? "" : "; stderr: " + text;
  }

  @Override
  public void close() {
    session.disconnect();
  }

  @Override
  public String toString() {
    return "SshConnection[" + where + "]";
  }

  /**
   * Collects a stream JSch writes into: up to a limit (or only the last bytes, for stderr), and
   * tells when JSch closes it at the remote end-of-file.
   */
  private static final class Capture extends OutputStream {
    private final BoundedBuffer buffer;
    private final CountDownLatch closed = new CountDownLatch(1);

    Capture(int limit, boolean keepTail) {
      this.buffer = new BoundedBuffer(limit, keepTail);
    }

    @Override
    public synchronized void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      buffer.append(b, off, len);
    }

    @Override
    public void close() {
      closed.countDown();
    }

    boolean awaitClosed(long deadline) throws InterruptedException {
      return closed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    synchronized byte[] bytes() {
      return buffer.bytes();
    }

    synchronized String text() {
      return buffer.text();
    }
  }
}
