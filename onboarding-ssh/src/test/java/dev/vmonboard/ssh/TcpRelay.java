package dev.vmonboard.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A user-space TCP relay on loopback for tests and the benchmark (this kernel has no netem): it
 * forwards to a target port, optionally delays every chunk by a fixed time in each direction, and
 * can cut a connection after a number of bytes from the client, or on the server's next answer
 * ({@link #cutOnNextAnswer}).
 *
 * <p>It counts exchanges: the times a client starts sending again after the server has spoken (or
 * first). For a request-response protocol that is its round trips, each of which costs the delay
 * twice. {@link #main} runs one in a process of its own, so that its threads' CPU is not the
 * benchmark's.
 */
final class TcpRelay implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final long delayNanos;
  private final long cutAfterBytes;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong exchanges = new AtomicLong();
  private volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicBoolean cutOnAnswer =
      new java.util.concurrent.atomic.AtomicBoolean();

  private TcpRelay(int targetPort, long delayMillis, long cutAfterBytes) throws IOException {
    this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMillis);
    this.cutAfterBytes = cutAfterBytes;
    Thread acceptor = new Thread(this::accept, "relay-accept-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Delays every chunk by {@code delayMillis} each way. */
  static TcpRelay delaying(int targetPort, long delayMillis) throws IOException {
    return new TcpRelay(targetPort, delayMillis, Long.MAX_VALUE);
  }

  /** Cuts each connection once the client has sent {@code bytes}. */
  static TcpRelay cuttingAfter(int targetPort, long bytes) throws IOException {
    return new TcpRelay(targetPort, 0, bytes);
  }

  int port() {
    return server.getLocalPort();
  }

  /**
   * Drops the next bytes the server sends, on any connection, and cuts that connection: armed while
   * a connection is idle, the next thing the server sends is the answer to what the client sends
   * next, so the request is carried out on the server and its answer lost.
   */
  void cutOnNextAnswer() {
    cutOnAnswer.set(true);
  }

  int connections() {
    return connections.get();
  }

  /** Exchanges over all connections so far: see the class comment. */
  long exchanges() {
    return exchanges.get();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        connections.incrementAndGet();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        AtomicLong sent = new AtomicLong();
        Turns turns = new Turns();
        pump(client, upstream, sent, cutAfterBytes, null, () -> turns.arrived(true));
        pump(
            upstream,
            client,
            new AtomicLong(),
            Long.MAX_VALUE,
            cutOnAnswer,
            () -> turns.arrived(false));
      } catch (IOException e) {
        if (!closed) {
          continue;
        }
      }
    }
  }

  /** Who spoke last on one connection. */
  private final class Turns {
    private boolean clientSpokeLast;

    synchronized void arrived(boolean fromClient) {
      if (fromClient && !clientSpokeLast) {
        exchanges.incrementAndGet();
      }
      clientSpokeLast = fromClient;
    }
  }

  private void pump(
      Socket from,
      Socket to,
      AtomicLong counter,
      long limit,
      java.util.concurrent.atomic.AtomicBoolean cutOnRead,
      Runnable arrived) {
    LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              byte[] buffer = new byte[32 * 1024];
              try (InputStream in = from.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                  if (counter.addAndGet(n) > limit
                      || (cutOnRead != null && cutOnRead.compareAndSet(true, false))) {
                    closeQuietly(from);
                    closeQuietly(to);
                    break;
                  }
                  arrived.run();
                  queue.add(new Chunk(java.util.Arrays.copyOf(buffer, n), delayNanos));
                }
              } catch (IOException e) {
                // the other side or the relay closed
              }
              queue.add(new Chunk(null, delayNanos));
            });
    Thread writer =
        new Thread(
            () -> {
              try (OutputStream out = to.getOutputStream()) {
                for (Chunk c = queue.take(); c.data != null; c = queue.take()) {
                  long wait = c.due - System.nanoTime();
                  if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                  }
                  out.write(c.data);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // closed
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            });
    reader.setDaemon(true);
    writer.setDaemon(true);
    reader.start();
    writer.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  /**
   * Runs a delaying relay in this process ({@link Forked}): arguments {@code TARGET_PORT
   * DELAY_MILLIS}. Prints {@code port N}; then answers each line on standard input with {@code
   * CONNECTIONS EXCHANGES}; ends at the end of its input.
   */
  public static void main(String[] args) throws IOException {
    try (TcpRelay relay = delaying(Integer.parseInt(args[0]), Long.parseLong(args[1]))) {
      System.out.println("port " + relay.port());
      System.out.flush();
      java.io.BufferedReader in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        System.out.println(relay.connections() + " " + relay.exchanges());
        System.out.flush();
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
  }

  /** Bytes and when they may be passed on; a null {@code data} ends the stream. */
  private static final class Chunk {
    final byte[] data;
    final long due;

    Chunk(byte[] data, long delayNanos) {
      this.data = data;
      this.due = System.nanoTime() + delayNanos;
    }
  }
}
