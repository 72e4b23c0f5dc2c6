package dev.vmonboard.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on loopback that forwards every connection to a port and cuts it (both sockets
 * closed, as a dropped link or a killed NAT entry does) once the client has sent a number of bytes:
 * enough for the SSH handshake and login, too few for the whole bundle.
 */
final class CuttingRelay implements AutoCloseable {

  private final ServerSocket listener;
  private final int target;
  private final long cutAfter;
  private final AtomicInteger cuts = new AtomicInteger();

  CuttingRelay(int target, long cutAfterClientBytes) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.target = target;
    this.cutAfter = cutAfterClientBytes;
    daemon("cutting-relay-" + port(), this::acceptAll);
  }

  int port() {
    return listener.getLocalPort();
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
        daemon("relay-down", () -> pump(server, client, Long.MAX_VALUE, client));
        daemon("relay-up", () -> pump(client, server, cutAfter, server));
      } catch (IOException e) {
        return;
      }
    }
  }

  /** Copies {@code from} to {@code to}; after {@code limit} bytes closes both ends. */
  private void pump(Socket from, Socket to, long limit, Socket other) {
    byte[] buffer = new byte[4096];
    long sent = 0;
    try (from;
        to) {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        int allowed = (int) Math.min(n, limit - sent);
        out.write(buffer, 0, allowed);
        sent += allowed;
        if (sent >= limit) {
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
