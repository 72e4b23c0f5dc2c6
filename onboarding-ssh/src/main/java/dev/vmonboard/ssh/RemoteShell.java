package dev.vmonboard.ssh;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code sh} on the VM, in one exec channel, that runs the scripts of every stage of a
 * workload's run: the transport's delivery and the launcher's start, one after the other, without a
 * new channel (and a new login shell) for each.
 *
 * <p>Each script travels on the shell's standard input as one chunk:
 *
 * <pre>
 * vmo_run() {
 * say() { printf '%s %s\n' TAG "$*"; }
 * SCRIPT
 * }
 * vmo_out=$(exec 2&gt;&amp;1 &lt;/dev/null; vmo_run); vmo_rc=$?; unset -f vmo_run
 * printf '%s\n%s %s\n' "$vmo_out" END "$vmo_rc"; unset vmo_out vmo_rc
 * </pre>
 *
 * <ul>
 *   <li>The shell parses the whole function definition before it runs any of it: a chunk cut short
 *       (a dropped connection) is a syntax error, never half a script. Payloads (bundle files) are
 *       inside the script, written by the shell's own {@code printf}, so no command ever reads the
 *       shell's standard input, which the shell may have read ahead.
 *   <li>The script runs in a subshell (the command substitution) with {@code /dev/null} as its
 *       input: its {@code exit}, traps, variables and {@code umask} end with it, and the shell is
 *       ready for the next chunk.
 *   <li>Its standard output and error are collected and sent back in one write after it ends,
 *       followed by a line with a random end marker and its exit status; lines that start with the
 *       chunk's random tag (written by {@code say}) are its results, all others diagnostics. The
 *       tag and the marker are new for every chunk and appear nowhere else, so no output can forge
 *       them.
 * </ul>
 *
 * A chunk that does not answer within its timeout, a connection that drops and a shell that ends
 * make the shell unusable: its channel is closed (the script is abandoned) and the caller opens a
 * new one for the next chunk. Not thread-safe: {@link VmSession} serialises its use.
 */
final class RemoteShell implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RemoteShell.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_OUTPUT = 4 << 20;
  private static final int STDERR_TAIL = 8 << 10;
  private static final String COMMAND = "sh";
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "vmonboard-ssh-watchdog");
            thread.setDaemon(true);
            return thread;
          });

  private final Session session;
  private final ChannelExec channel;
  private final OutputStream stdin;
  private final Answers answers = new Answers(MAX_OUTPUT);
  private final Answers shellErrors = new Answers(STDERR_TAIL);
  private final String where;
  private final ShellTap.Connection tap;
  private volatile boolean broken;

  private RemoteShell(Session session, String where, ShellTap.Connection tap)
      throws JSchException, IOException {
    this.session = session;
    this.where = where;
    this.tap = tap;
    this.channel = (ChannelExec) session.openChannel("exec");
    channel.setCommand(COMMAND);
    channel.setOutputStream(answers, false);
    channel.setErrStream(shellErrors, false);
    this.stdin = channel.getOutputStream();
  }

  /**
   * Opens the channel and starts {@code sh} in it. Waits for the server to open the channel, but
   * not for its answer to the exec request (JSch asks for none when given no timeout): the first
   * chunk follows the request at once, and a shell that cannot start shows as a closed channel.
   */
  static RemoteShell open(Session session, String where, ShellTap.Connection tap)
      throws JSchException, IOException {
    long start = System.nanoTime();
    RemoteShell shell = new RemoteShell(session, where, tap);
    shell.channel.connect(0);
    if (tap != null) {
      tap.shellOpened(COMMAND);
    }
    LOG.debug("shell on {} opened in {} ms", where, (System.nanoTime() - start) / 1_000_000);
    return shell;
  }

  /** Whether the next chunk can be sent. */
  boolean isUsable() {
    return !broken && channel.isConnected() && !channel.isClosed() && !answers.isClosed();
  }

  /**
   * Runs {@code script} and returns its exit code, its results ({@code say} lines) as standard
   * output and the tail of everything else as standard error; a non-zero exit is a result.
   *
   * @param what a short description for errors ("deliver the bundle"), never secret
   * @throws SshException if the connection drops, the shell ends, or the script does not answer
   *     within {@code timeout}; the shell is then unusable
   */
  ExecResult run(String what, RemoteScript script, Duration timeout) throws SshException {
    if (!isUsable()) {
      throw new SshException(where, "the shell on " + where + " is closed", true);
    }
    String tag = random();
    String end = random();
    byte[] chunk = chunk(script, tag, end);
    long deadline = System.nanoTime() + timeout.toNanos();
    ScheduledFuture<?> alarm =
        WATCHDOG.schedule(this::abandon, Math.max(1, timeout.toNanos()), TimeUnit.NANOSECONDS);
    byte[] answer;
    try {
      try {
        if (tap != null) {
          tap.chunkSent(chunk, end);
        }
        stdin.write(chunk);
        stdin.flush();
      } catch (IOException e) {
        abandon();
        throw failure(what, deadline, timeout, e);
      }
      answer = answers.await(end, deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon();
      throw new SshException(where, "interrupted while waiting to " + what + " on " + where, true);
    } finally {
      alarm.cancel(false);
    }
    if (answer == null) {
      abandon();
      throw failure(what, deadline, timeout, null);
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "{} on {}: {} bytes sent, answered after {} ms",
          what,
          where,
          chunk.length,
          (System.nanoTime() - deadline + timeout.toNanos()) / 1_000_000);
    }
    return parse(answer, tag, end);
  }

  /** Why a chunk got no answer: timeout, dropped connection, or the shell ended. */
  private SshException failure(String what, long deadline, Duration timeout, IOException cause) {
    String why;
    if (System.nanoTime() - deadline >= 0) {
      why = ": no answer within " + timeout.toMillis() + " ms; the remote command was abandoned";
    } else if (!session.isConnected()) {
      why = ": the connection was lost before the command finished";
    } else {
      int status = channel.getExitStatus();
      why =
          ": the remote shell ended"
              + (status >= 0 ? " with status " + status : "")
              + " before the command finished";
    }
    return new SshException(
        where, "cannot " + what + " on " + where + why + tail(shellErrors.text()), true, cause);
  }

  private static String tail(String text) {
    String lines = new ExecResult(0, new byte[0], text).lastErrorLines(3);
    return lines.isEmpty() ? "" : "; stderr: " + lines;
  }

  /** Closes the channel: the running script is abandoned and the shell is unusable. */
  private void abandon() {
    broken = true;
    channel.disconnect();
    answers.close();
  }

  private static byte[] chunk(RemoteScript script, String tag, String end) {
    String text =
        "vmo_run() {\n"
            + "say() { printf '%s %s\\n' "
            + tag
            + " \"$*\"; }\n"
            + script.text()
            + "}\n"
            + "vmo_out=$(exec 2>&1 </dev/null; vmo_run); vmo_rc=$?; unset -f vmo_run\n"
            + "printf '%s\\n%s %s\\n' \"$vmo_out\" "
            + end
            + " \"$vmo_rc\"; unset vmo_out vmo_rc\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Splits an answer into results ({@code TAG words} lines) and diagnostics. */
  private static ExecResult parse(byte[] answer, String tag, String end) {
    String text = new String(answer, StandardCharsets.UTF_8);
    int endLine = text.lastIndexOf("\n" + end + " ");
    String status = text.substring(endLine + end.length() + 2).strip();
    String output = text.substring(0, endLine);
    StringBuilder results = new StringBuilder();
    List<String> diagnostics = new ArrayList<>();
    String prefix = tag + " ";
    for (String line : output.split("\n", -1)) {
      if (line.startsWith(prefix)) {
        results.append(line, prefix.length(), line.length()).append('\n');
      } else if (!line.isEmpty()) {
        diagnostics.add(line);
      }
    }
    String errors = String.join("\n", diagnostics);
    if (errors.length() > STDERR_TAIL) {
      errors = "..." + errors.substring(errors.length() - STDERR_TAIL);
    }
    int exit = status.matches("\\d{1,3}") ? Integer.parseInt(status) : 255;
    return new ExecResult(exit, results.toString().getBytes(StandardCharsets.UTF_8), errors);
  }

  private static String random() {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    return "vmo" + HexFormat.of().formatHex(bytes);
  }

  /** Closes the channel; the shell reads end-of-file and exits. */
  @Override
  public void close() {
    broken = true;
    channel.disconnect();
  }

  @Override
  public String toString() {
    return "RemoteShell[" + where + "]";
  }

  /**
   * Collects what the shell writes (JSch's session thread calls {@link #write}); keeps at most a
   * limit (the last bytes), and wakes the waiting caller when an end marker may have arrived or the
   * stream closed.
   */
  static final class Answers extends OutputStream {
    private final BoundedBuffer buffer;
    private boolean closed;

    Answers(int limit) {
      this.buffer = new BoundedBuffer(limit, true);
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      buffer.append(b, off, len);
      if (len > 0 && b[off + len - 1] == '\n') {
        notifyAll();
      }
    }

    @Override
    public synchronized void close() {
      closed = true;
      notifyAll();
    }

    synchronized boolean isClosed() {
      return closed;
    }

    synchronized String text() {
      return buffer.text();
    }

    /**
     * Waits for a complete line {@code END STATUS} and returns everything up to and including it
     * (removed from the buffer); {@code null} when the stream closes or the deadline passes first.
     */
    synchronized byte[] await(String end, long deadline) throws InterruptedException {
      byte[] marker = ("\n" + end + " ").getBytes(StandardCharsets.US_ASCII);
      while (true) {
        byte[] bytes = buffer.bytes();
        int at = indexOf(bytes, marker);
        if (at >= 0) {
          int eol = at + marker.length;
          while (eol < bytes.length && bytes[eol] != '\n') {
            eol++;
          }
          if (eol < bytes.length) {
            buffer.dropFirst(eol + 1);
            byte[] answer = new byte[eol + 1];
            System.arraycopy(bytes, 0, answer, 0, eol + 1);
            return answer;
          }
        }
        long left = deadline - System.nanoTime();
        if (closed || left <= 0) {
          return null;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    private static int indexOf(byte[] bytes, byte[] marker) {
      outer:
      for (int i = 0; i + marker.length <= bytes.length; i++) {
        for (int j = 0; j < marker.length; j++) {
          if (bytes[i + j] != marker[j]) {
            continue outer;
          }
        }
        return i;
      }
      return -1;
    }
  }
}
