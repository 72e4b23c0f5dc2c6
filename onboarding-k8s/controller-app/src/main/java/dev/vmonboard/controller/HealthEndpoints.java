package dev.vmonboard.controller;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The controller's health endpoints for the kubelet's probes: {@code GET /livez} (200 while the
 * process and its informers are alive, else 503) and {@code GET /readyz} (200 once the informers
 * have synced, else 503). Plain text, no details that could leak anything.
 */
public final class HealthEndpoints implements AutoCloseable {

  /** The liveness path. */
  public static final String LIVENESS = "/livez";

  /** The readiness path. */
  public static final String READINESS = "/readyz";

  private final HttpServer server;
  private final ExecutorService executor;

  private HealthEndpoints(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Serves the endpoints on {@code port} of every interface ({@code 0}: a free port, see {@link
   * #port()}).
   */
  public static HealthEndpoints start(int port, BooleanSupplier alive, BooleanSupplier ready)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 8);
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "vmonboard-health");
              thread.setDaemon(true);
              return thread;
            });
    server.createContext(LIVENESS, exchange -> answer(exchange, alive));
    server.createContext(READINESS, exchange -> answer(exchange, ready));
    server.setExecutor(executor);
    server.start();
    return new HealthEndpoints(server, executor);
  }

  /** The port the endpoints are served on. */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void answer(HttpExchange exchange, BooleanSupplier check) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())
          || !(path.equals(LIVENESS) || path.equals(READINESS))) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      boolean ok;
      try {
        ok = check.getAsBoolean();
      } catch (RuntimeException e) {
        ok = false;
      }
      byte[] body = (ok ? "ok\n" : "not ok\n").getBytes(StandardCharsets.US_ASCII);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=us-ascii");
      if ("HEAD".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(ok ? 200 : 503, -1);
        return;
      }
      exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Stops serving. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
