package dev.vmonboard.ssh;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The limit of the SDK's remote work: records, through a {@link ShellTap}, exactly what the SDK
 * sent to each VM (the shell command of every channel and every chunk written to it, whatever the
 * scripts are), and sends the same bytes again with a bare JSch client: one connection per recorded
 * connection, the recorded channels in order, each chunk written as soon as the previous one's
 * answer is complete. No pipeline, no cluster, no events, no parsing beyond finding the end of each
 * answer.
 *
 * <p>The bare client logs in with the same algorithms and the same authentication exchanges as the
 * SDK (the same key exchange list, the key offered signed, no "none" request), so that both do the
 * same protocol work; its host key check is JSch's own, against the same known_hosts file read
 * once.
 */
final class Replay {

  /** One chunk written to a shell, and the end marker of its answer. */
  record Chunk(byte[] bytes, String endMarker) {}

  /** One channel: its command and the chunks written to it. */
  record Channel(String command, List<Chunk> chunks) {}

  /** What the SDK sent over one connection to {@code user@host:port}. */
  record Transcript(String user, String host, int port, List<Channel> channels) {

    /** Bytes written to the shells, all chunks together. */
    long bytes() {
      return channels.stream()
          .flatMap(c -> c.chunks().stream())
          .mapToLong(c -> c.bytes().length)
          .sum();
    }

    /** Chunks written, all channels together. */
    int chunks() {
      return channels.stream().mapToInt(c -> c.chunks().size()).sum();
    }
  }

  /**
   * A {@link ShellTap} that keeps a transcript of every connection opened while it is installed.
   */
  static final class Recorder implements ShellTap {
    private final List<Transcript> transcripts = Collections.synchronizedList(new ArrayList<>());

    @Override
    public Connection connected(String where) {
      int at = where.lastIndexOf('@');
      int colon = where.lastIndexOf(':');
      List<Channel> channels = Collections.synchronizedList(new ArrayList<>());
      transcripts.add(
          new Transcript(
              where.substring(0, at),
              where.substring(at + 1, colon),
              Integer.parseInt(where.substring(colon + 1)),
              channels));
      return new Connection() {
        @Override
        public void shellOpened(String command) {
          channels.add(new Channel(command, Collections.synchronizedList(new ArrayList<>())));
        }

        @Override
        public void chunkSent(byte[] chunk, String endMarker) {
          channels.get(channels.size() - 1).chunks().add(new Chunk(chunk, endMarker));
        }
      };
    }

    /** The transcripts recorded so far, and forgets them. */
    List<Transcript> take() {
      synchronized (transcripts) {
        List<Transcript> all = List.copyOf(transcripts);
        transcripts.clear();
        return all;
      }
    }
  }

  /** A bare JSch client that replays transcripts; thread-safe. */
  static final class Client {
    private final JSch jsch = new JSch();
    private final long answerTimeoutNanos = TimeUnit.MINUTES.toNanos(2);

    /** Logs in with {@code key} (read once) and checks host keys against {@code knownHosts}. */
    Client(SshIdentity key, Path knownHosts) throws IOException, JSchException {
      jsch.addIdentity(key.name(), key.readPrivateKey(), null, null);
      jsch.setKnownHosts(new ByteArrayInputStream(Files.readAllBytes(knownHosts)));
    }

    /**
     * Sends what {@code transcript} recorded, over one new connection, and waits for every answer.
     * Returns the CPU time this thread spent logging in, in nanoseconds.
     */
    long replay(Transcript transcript) throws JSchException, IOException, InterruptedException {
      long cpu = CPU.getCurrentThreadCpuTime();
      Session session = jsch.getSession(transcript.user(), transcript.host(), transcript.port());
      session.setConfig("StrictHostKeyChecking", "yes");
      KeyExchanges.configure(session);
      session.setConfig("enable_auth_none", "no");
      session.setConfig("enable_pubkey_auth_query", "no");
      session.setConfig("PreferredAuthentications", "publickey");
      session.setDaemonThread(true);
      session.setThreadFactory(
          task -> {
            Thread thread = new Thread(task, "replay-session");
            thread.setDaemon(true);
            return thread;
          });
      session.connect(10_000);
      long login = CPU.getCurrentThreadCpuTime() - cpu;
      try {
        for (Channel recorded : transcript.channels()) {
          ChannelExec channel = (ChannelExec) session.openChannel("exec");
          Answer answer = new Answer();
          channel.setCommand(recorded.command());
          channel.setOutputStream(answer, false);
          channel.setErrStream(OutputStream.nullOutputStream(), false);
          OutputStream stdin = channel.getOutputStream();
          channel.connect(0);
          try {
            for (Chunk chunk : recorded.chunks()) {
              stdin.write(chunk.bytes());
              stdin.flush();
              answer.await(chunk.endMarker(), System.nanoTime() + answerTimeoutNanos);
            }
          } finally {
            channel.disconnect();
          }
        }
      } finally {
        session.disconnect();
      }
      return login;
    }
  }

  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  /** Collects a channel's output until a chunk's end line has arrived. */
  private static final class Answer extends OutputStream {
    private final StringBuilder seen = new StringBuilder();
    private boolean closed;

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      seen.append(new String(b, off, len, StandardCharsets.ISO_8859_1));
      notifyAll();
    }

    @Override
    public synchronized void close() {
      closed = true;
      notifyAll();
    }

    /** Waits for the line {@code END STATUS}; drops everything up to it. */
    synchronized void await(String end, long deadline) throws IOException, InterruptedException {
      String marker = "\n" + end + " ";
      while (true) {
        int at = seen.indexOf(marker);
        int eol = at < 0 ? -1 : seen.indexOf("\n", at + marker.length());
        if (eol >= 0) {
          seen.delete(0, eol + 1);
          return;
        }
        long left = deadline - System.nanoTime();
        if (closed || left <= 0) {
          throw new IOException(
              "no answer to a replayed chunk (" + (closed ? "channel closed" : "timeout") + ")");
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  private Replay() {}
}
