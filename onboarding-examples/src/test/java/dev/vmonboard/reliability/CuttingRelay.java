package dev.vmonboard.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on loopback that forwards every connection to a port, counts what the client sends,
 * and can cut a connection (both sockets closed, as a dropped link or a killed NAT entry does) once
 * its client has sent a given number of bytes. A test measures where a transfer lies in the byte
 * stream with a first run, then cuts the next run in its middle, whatever the protocol sends around
 * it.
 */
final class CuttingRelay implements AutoCloseable {

  private final ServerSocket listener;
  private final int target;
  private final AtomicLong sentOnLatest = new AtomicLong();
  private final AtomicInteger cuts = new AtomicInteger();
  private volatile long cutAfter = Long.MAX_VALUE;

  CuttingRelay(int target) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.target = target;
    daemon("cutting-relay-" + port(), this::acceptAll);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Bytes the client of the latest connection has sent so far. */
  long clientBytes() {
    return sentOnLatest.get();
  }

  /** Cuts every later connection once its client has sent {@code bytes}. */
  void cutAfter(long bytes) {
    this.cutAfter = bytes;
  }

  /** How many connections were cut. */
  int cuts() {
    return cuts.get();
  }

  private void acceptAll() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        AtomicLong sent = new AtomicLong();
        sentOnLatest.set(0);
        long limit = cutAfter;
        daemon("relay-down", () -> pump(server, client, Long.MAX_VALUE, null, client));
        daemon("relay-up", () -> pump(client, server, limit, sent, server));
      } catch (IOException e) {
        return;
      }
    }
  }

  /** Copies {@code from} to {@code to}; after {@code limit} bytes closes both ends. */
  private void pump(Socket from, Socket to, long limit, AtomicLong sent, Socket other) {
    byte[] buffer = new byte[4096];
    try (from;
        to) {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      long total = 0;
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        int allowed = (int) Math.min(n, limit - total);
        out.write(buffer, 0, allowed);
        total += allowed;
        if (sent != null) {
          sentOnLatest.set(sent.addAndGet(allowed));
        }
        if (total >= limit) {
          cuts.incrementAndGet();
          other.close();
          return;
        }
      }
    } catch (IOException e) {
      // One side closed: the other is closed by try-with-resources.
    }
  }

  private static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
