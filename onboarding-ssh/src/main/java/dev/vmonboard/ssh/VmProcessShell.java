package dev.vmonboard.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.server.shell.InvertedShell;

/**
 * Runs one exec request of an {@link EmbeddedVm} as a real {@code /bin/sh -c} process, in the VM's
 * filesystem directory and with the VM's environment (its stand-in tools first on {@code PATH}).
 *
 * <p>MINA's own {@code ProcessShell} runs in the JVM's working directory with the JVM's
 * environment, which would let a test's commands escape the VM's directory.
 */
final class VmProcessShell implements InvertedShell {

  private final String command;
  private final Path directory;
  private final Map<String, String> environment;
  private ServerSession session;
  private ChannelSession channel;
  private Process process;
  private QueuedStdin stdin;

  VmProcessShell(String command, Path directory, Map<String, String> environment) {
    this.command = command;
    this.directory = directory;
    this.environment = environment;
  }

  @Override
  public void start(ChannelSession channel, Environment env) throws IOException {
    this.channel = channel;
    ProcessBuilder builder =
        new ProcessBuilder(List.of("/bin/sh", "-c", command)).directory(directory.toFile());
    builder.environment().clear();
    builder.environment().putAll(environment);
    process = builder.start();
    stdin = new QueuedStdin(process.getOutputStream(), "embedded-vm-stdin-" + process.pid());
  }

  @Override
  public void destroy(ChannelSession channel) {
    if (process != null && process.isAlive()) {
      // The shell first, so that its traps run; then whatever it left running (a sleep, a tar).
      process.destroy();
      process.descendants().forEach(ProcessHandle::destroy);
    }
  }

  @Override
  public OutputStream getInputStream() {
    return stdin;
  }

  @Override
  public InputStream getOutputStream() {
    return process.getInputStream();
  }

  @Override
  public InputStream getErrorStream() {
    return process.getErrorStream();
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * The command's exit code. MINA may ask as soon as the streams close (a client that dropped the
   * connection), a moment before the destroyed shell has exited: wait for it rather than throw from
   * MINA's pump thread.
   */
  @Override
  public int exitValue() {
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return process.waitFor();
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return 130;
    }
  }

  @Override
  public ServerSession getServerSession() {
    return session;
  }

  @Override
  public void setSession(ServerSession session) {
    this.session = session;
  }

  @Override
  public ChannelSession getServerChannelSession() {
    return channel;
  }

  /**
   * The process's standard input, written by a thread of its own. MINA pumps all of a command's
   * streams from one thread; with a blocking stdin, a command that writes much output before
   * reading all its input ({@code cat} of a large input) would deadlock.
   */
  private static final class QueuedStdin extends OutputStream {
    private static final byte[] EOF = new byte[0];
    private final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();

    QueuedStdin(OutputStream target, String name) {
      Thread writer =
          new Thread(
              () -> {
                try (target) {
                  for (byte[] chunk = queue.take(); chunk != EOF; chunk = queue.take()) {
                    target.write(chunk);
                    target.flush();
                  }
                } catch (IOException | InterruptedException e) {
                  // The process ended or was destroyed: what it did not read is of no use.
                }
              },
              name);
      writer.setDaemon(true);
      writer.start();
    }

    @Override
    public void write(int b) {
      queue.add(new byte[] {(byte) b});
    }

    @Override
    public void write(byte[] b, int off, int len) {
      queue.add(Arrays.copyOfRange(b, off, off + len));
    }

    @Override
    public void close() {
      queue.add(EOF);
    }
  }
}
