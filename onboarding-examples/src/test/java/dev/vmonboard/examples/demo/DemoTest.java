package dev.vmonboard.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs the README's demo end to end, as its first command does, and its failure paths. */
class DemoTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Demo.Sabotage sabotage, String... args) {
    return Demo.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        sabotage);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void playsTheWholeScenarioAndExitsZero() {
    int code = run((backend, frontend) -> {}, "--prefix", "acme");

    String text = out();
    assertThat(code).as(text).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    // 1. backend-vm registered with its labels, annotations, Service and Sidecar; the plan
    assertThat(text)
        .contains("kubectl create namespace acme-demo-secure")
        .contains("labels      {cloud=private, class=vm, app=backend-vm}")
        .contains("sidecar-bootstrap.istio.io/proxy-image-hub: mirror.example.com/istio")
        .contains("sidecar-bootstrap.istio.io/proxy-instance-ip: 10.0.0.21")
        .contains("plan for acme-demo-secure/backend-vm on ")
        .contains("0600 tokens/istio-token (bootstrap token, redacted)");
    // 2. what the cluster and the VM hold, the command that ran, the timings
    assertThat(text)
        .contains(
            "Sidecar acme-demo-secure/backend-vm: ingress 8888/HTTP -> 127.0.0.1:8888;"
                + " egress bind 127.0.0.2 hosts ./*, xcp-multicluster/*")
        .contains("Service acme-demo-secure/backend-vm: selector {app=backend-vm}, ports http 8888")
        .containsPattern("0600 +\\d+ B  tokens/istio-token   \\(secret: content not shown\\)")
        .containsPattern("0644 +\\d+ B  sidecar.env")
        .contains("INSTANCE_IP=10.0.0.21")
        .contains("ISTIO_META_NETWORK=aws-vms")
        .contains("docker run -d \\")
        .contains("mirror.example.com/istio/proxyv2:")
        .containsPattern("deliver the bundle +Transport +SUCCEEDED +1 +\\d+ ms");
    // 3. offboarded and clean; 4. the frontend on 8080; 5. the summary
    assertThat(text)
        .contains("$BACKEND_VM/etc/istio-proxy is gone")
        .contains("$BACKEND_VM/etc/istio-proxy-certs is gone")
        .contains("the cluster: nothing left in acme-demo-secure")
        .contains("ingress 8080/HTTP -> 127.0.0.1:8080")
        .contains("$FRONTEND_VM/etc/istio-proxy is gone")
        .contains("2 tokens issued, one per VM; neither appears in this output")
        .contains("every step succeeded")
        .doesNotContain("FAILED");
    assertThat(text).doesNotContainPattern("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.");
  }

  @Test
  void exitsOneAndSaysWhichStepFailedWhenAProxyDoesNotStart() {
    int code =
        run((backend, frontend) -> frontend.containerExitsAtOnce("istio-proxy"), "--prefix", "x");

    String text = out();
    assertThat(code).as(text).isEqualTo(1);
    assertThat(text)
        .containsPattern("frontend-vm +onboard +FAILED .*stage 'start the proxy'")
        .containsPattern("backend-vm +onboard +ok")
        .contains("demo FAILED");
  }

  @Test
  void refusesABadArgumentWithOneLineAndExitCodeTwo() {
    assertThat(run((b, f) -> {}, "--prefix", "Not_A_Namespace")).isEqualTo(2);
    assertThat(run((b, f) -> {}, "--bogus")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).lines())
        .hasSize(2)
        .allMatch(line -> line.startsWith("demo: "));
    assertThat(out()).isEmpty();
  }
}
