package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What an overloaded API server asks about waiting reaches the pipeline as retryAfter(). */
class RetryAfterFaultTest {

  private static final String TOKEN_PATH = "/api/v1/namespaces/vms/serviceaccounts/vm-sa/token";

  private static EmbeddedIstioCluster cluster;
  private static ServiceAccountTokenIssuer issuer;

  @BeforeAll
  static void start() {
    cluster = EmbeddedIstioCluster.start();
    TestObjects.serviceAccount(cluster.client(), "vms", "vm-sa");
    issuer = ServiceAccountTokenIssuer.create(cluster.cluster());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private StageException issueFails() {
    Workload vm =
        Workload.builder(WorkloadRef.of("vms", "vm-1"))
            .address("10.0.0.1")
            .serviceAccount("vm-sa")
            .build();
    return catchThrowableOfType(
        StageException.class,
        () -> issuer.issue(vm, TokenRequest.of("istio-ca", Duration.ofHours(1))));
  }

  @Test
  void aThrottledRequestCarriesTheWaitTheServerAskedFor() {
    cluster.failNext("POST", TOKEN_PATH, 429, 1, Duration.ofSeconds(7));

    StageException failure = issueFails();

    assertThat(failure.isTransient()).isTrue();
    assertThat(failure.retryAfter()).contains(Duration.ofSeconds(7));
    assertThat(failure.hint()).hasValueSatisfying(h -> assertThat(h).contains("after 7 s"));
  }

  @Test
  void anUnavailableServerCarriesItsRetryAfterToo() {
    cluster.failNext("POST", TOKEN_PATH, 503, 1, Duration.ofSeconds(2));

    StageException failure = issueFails();

    assertThat(failure.isTransient()).isTrue();
    assertThat(failure.retryAfter()).contains(Duration.ofSeconds(2));
    assertThat(failure.getMessage()).contains("503");
  }

  @Test
  void aServerErrorWithoutRetryAfterLeavesTheWaitToTheRetryPolicy() {
    cluster.failNext("POST", TOKEN_PATH, 500, 1);

    StageException failure = issueFails();

    assertThat(failure.isTransient()).isTrue();
    assertThat(failure.retryAfter()).isEmpty();
  }
}
