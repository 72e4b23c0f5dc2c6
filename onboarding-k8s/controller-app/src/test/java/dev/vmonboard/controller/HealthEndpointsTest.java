package dev.vmonboard.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthEndpointsTest {

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void eachEndpointAnswersWhatItsCheckSaysNow() throws Exception {
    AtomicBoolean alive = new AtomicBoolean(true);
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HealthEndpoints health = HealthEndpoints.start(0, alive::get, ready::get)) {
      assertThat(status(health, "/livez")).isEqualTo(200);
      assertThat(status(health, "/readyz")).isEqualTo(503);
      ready.set(true);
      assertThat(status(health, "/readyz")).isEqualTo(200);
      alive.set(false);
      assertThat(status(health, "/livez")).isEqualTo(503);
      assertThat(status(health, "/readyz/more")).isEqualTo(404);
      assertThat(status(health, "/metrics")).isEqualTo(404);
    }
  }

  @Test
  void aCheckThatThrowsIsNotOk() throws Exception {
    try (HealthEndpoints health =
        HealthEndpoints.start(
            0,
            () -> {
              throw new IllegalStateException("informer gone");
            },
            () -> true)) {
      HttpResponse<String> answer = get(health, "/livez");
      assertThat(answer.statusCode()).isEqualTo(503);
      assertThat(answer.body()).isEqualTo("not ok\n");
    }
  }

  @Test
  void theHealthPortComesFromTheEnvironment() {
    assertThat(ControllerMain.healthPort(Map.of())).isEqualTo(8081);
    assertThat(ControllerMain.healthPort(Map.of(ControllerMain.HEALTH_PORT, "9000")))
        .isEqualTo(9000);
    assertThat(ControllerMain.healthPort(Map.of(ControllerMain.HEALTH_PORT, "0"))).isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ControllerMain.healthPort(Map.of(ControllerMain.HEALTH_PORT, "http")))
        .hasMessageContaining("HEALTH_PORT")
        .hasMessageContaining("'http'");
  }

  private int status(HealthEndpoints health, String path) throws Exception {
    return get(health, path).statusCode();
  }

  private HttpResponse<String> get(HealthEndpoints health, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
