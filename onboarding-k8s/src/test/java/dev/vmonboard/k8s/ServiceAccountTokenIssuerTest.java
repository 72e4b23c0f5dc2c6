package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ServiceAccountTokenIssuerTest {

  private static final String TOKEN_PATH = "/api/v1/namespaces/vms/serviceaccounts/vm-sa/token";

  private EmbeddedIstioCluster cluster;
  private ServiceAccountTokenIssuer issuer;

  @BeforeEach
  void start() {
    cluster = EmbeddedIstioCluster.builder().maxTokenLifetime(Duration.ofHours(1)).start();
    TestObjects.serviceAccount(cluster.client(), "vms", "vm-sa");
    issuer = ServiceAccountTokenIssuer.create(cluster.cluster());
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static Workload vm(String name, String serviceAccount) {
    return Workload.builder(WorkloadRef.of("vms", name))
        .address("10.0.0.1")
        .serviceAccount(serviceAccount)
        .build();
  }

  @Test
  void issuesOneTokenPerWorkloadWithTheExpiryTheApiServerGranted() {
    TokenRequest request = TokenRequest.of(TokenRequest.ISTIO_CA_AUDIENCE, Duration.ofHours(24));
    Instant before = Instant.now().minusSeconds(1);

    BootstrapToken first = issuer.issue(vm("vm-1", "vm-sa"), request);
    BootstrapToken second = issuer.issue(vm("vm-2", "vm-sa"), request);

    assertThat(first.secret()).isNotEqualTo(second.secret());
    assertThat(first.audience()).isEqualTo("istio-ca");
    assertThat(first.expiresAt())
        .isBetween(before.plusSeconds(3600), Instant.now().plusSeconds(3601));
    assertThat(claims(first))
        .contains("\"aud\":[\"istio-ca\"]")
        .contains("\"sub\":\"system:serviceaccount:vms:vm-sa\"");
    assertThat(first.toString()).doesNotContain(first.secret());
    assertThat(cluster.requestLog())
        .filteredOn(line -> line.startsWith("POST " + TOKEN_PATH))
        .hasSize(2);
  }

  @Test
  void asksForTheRequestedAudienceAndLifetime() {
    BootstrapToken token =
        issuer.issue(vm("vm-1", "vm-sa"), TokenRequest.of("custom-aud", Duration.ofMinutes(20)));

    assertThat(token.audience()).isEqualTo("custom-aud");
    assertThat(claims(token)).contains("\"aud\":[\"custom-aud\"]");
    assertThat(token.expiresAt()).isBefore(Instant.now().plusSeconds(20 * 60 + 1));
  }

  @Test
  void namesTheMissingServiceAccountAndTheWorkload() {
    assertThatThrownBy(() -> issuer.issue(vm("vm-1", "ghost"), istioCa()))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining(
            "ServiceAccount vms/ghost (spec.serviceAccount of vms/vm-1) not found")
        .satisfies(
            e ->
                assertThat(((StageException) e).hint().orElseThrow())
                    .contains("kubectl create serviceaccount ghost -n vms"));
  }

  @Test
  void namesTheMissingPermissionWhenForbidden() {
    cluster
        .server()
        .expect()
        .post()
        .withPath(TOKEN_PATH)
        .andReturn(
            403,
            status(
                403,
                "Forbidden",
                "serviceaccounts \"vm-sa\" is forbidden: User \"bob\" cannot create resource"
                    + " \"serviceaccounts/token\""))
        .once();

    assertThatThrownBy(() -> issuer.issue(vm("vm-1", "vm-sa"), istioCa()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining(
            "missing permission 'create' on serviceaccounts/token in namespace vms")
        .hasMessageContaining("User \"bob\" cannot create")
        .satisfies(
            e -> {
              StageException failure = (StageException) e;
              assertThat(failure.isTransient()).isFalse();
              assertThat(failure.hint().orElseThrow()).contains("dev/vmonboard/k8s/rbac.yaml");
            });
  }

  @Test
  void reportsOverloadAndServerErrorsAsTransient() {
    cluster
        .server()
        .expect()
        .post()
        .withPath(TOKEN_PATH)
        .andReturn(
            429,
            Map.of(
                "kind", "Status",
                "code", 429,
                "reason", "TooManyRequests",
                "message", "slow down",
                "details", Map.of("retryAfterSeconds", 7)))
        .once();
    cluster
        .server()
        .expect()
        .post()
        .withPath(TOKEN_PATH)
        .andReturn(503, status(503, "ServiceUnavailable", "etcd down"))
        .once();

    assertThatThrownBy(() -> issuer.issue(vm("vm-1", "vm-sa"), istioCa()))
        .isInstanceOf(StageException.class)
        .satisfies(
            e -> {
              assertThat(((StageException) e).isTransient()).isTrue();
              assertThat(((StageException) e).hint().orElseThrow()).contains("retry after 7 s");
            });
    assertThatThrownBy(() -> issuer.issue(vm("vm-1", "vm-sa"), istioCa()))
        .hasMessageContaining("failed (503)")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue());
    assertThat(issuer.issue(vm("vm-1", "vm-sa"), istioCa()).secret()).isNotEmpty();
  }

  @Test
  void reportsAnUnreachableClusterAsTransientNamingIt() {
    ServiceAccountTokenIssuer unreachable;
    try (EmbeddedIstioCluster gone = EmbeddedIstioCluster.start()) {
      unreachable =
          ServiceAccountTokenIssuer.create(
              KubernetesCluster.fromKubeconfig(
                  KubeconfigFiles.write(Map.of("gone", gone.url()), "gone")));
    }
    assertThatThrownBy(() -> unreachable.issue(vm("vm-1", "vm-sa"), istioCa()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("context 'gone'")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue());
  }

  @Test
  void neverPutsTheTokenIntoAnError() {
    cluster
        .server()
        .expect()
        .post()
        .withPath(TOKEN_PATH)
        .andReturn(
            201,
            Map.of(
                "apiVersion", "authentication.k8s.io/v1",
                "kind", "TokenRequest",
                "status", Map.of("token", Canary.SECRET, "expirationTimestamp", "tomorrow")))
        .once();

    assertThatThrownBy(() -> issuer.issue(vm("vm-1", "vm-sa"), istioCa()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("unreadable expiry")
        .satisfies(Canary::assertAbsent);
  }

  private static TokenRequest istioCa() {
    return TokenRequest.of(TokenRequest.ISTIO_CA_AUDIENCE, Duration.ofHours(1));
  }

  static Map<String, Object> status(int code, String reason, String message) {
    return Map.of(
        "kind",
        "Status",
        "apiVersion",
        "v1",
        "status",
        "Failure",
        "code",
        code,
        "reason",
        reason,
        "message",
        message);
  }

  private static String claims(BootstrapToken token) {
    return new String(
        Base64.getUrlDecoder().decode(token.secret().split("\\.")[1]), StandardCharsets.UTF_8);
  }
}
