package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubernetesClusterTest {

  private static EmbeddedIstioCluster cluster;
  private static String closedUrl;

  @BeforeAll
  static void start() {
    cluster = EmbeddedIstioCluster.start();
    try (EmbeddedIstioCluster gone = EmbeddedIstioCluster.builder().typicalIstio(false).start()) {
      closedUrl = gone.url();
    }
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Path kubeconfig(String current) {
    Map<String, String> contexts = new LinkedHashMap<>();
    contexts.put("private-east", cluster.url());
    contexts.put("private-west", closedUrl);
    return KubeconfigFiles.write(contexts, current);
  }

  @Test
  void connectsThroughANamedContextOfAKubeconfigFile() {
    Path file = kubeconfig("private-west");
    try (KubernetesCluster east = KubernetesCluster.fromKubeconfig(file, "private-east")) {
      east.checkConnectivity();
      assertThat(east.description())
          .contains("context 'private-east'")
          .contains(cluster.url())
          .contains(file.toString());
      assertThat(east.client().getNamespace()).isEqualTo("default");
    }
  }

  @Test
  void saysWhichClusterAndContextItTriedWhenUnreachable() {
    Path file = kubeconfig("private-west");
    try (KubernetesCluster west = KubernetesCluster.fromKubeconfig(file)) {
      assertThatThrownBy(west::checkConnectivity)
          .isInstanceOf(StageException.class)
          .hasMessageContaining("cannot reach the API server of context 'private-west'")
          .hasMessageContaining(closedUrl)
          .hasMessageContaining(file.toString())
          .satisfies(
              e -> {
                StageException failure = (StageException) e;
                assertThat(failure.isTransient()).isTrue();
                assertThat(failure.hint().orElseThrow()).contains("kubectl version");
              });
    }
  }

  @Test
  void refusesAMissingFileOrAnUnknownContext(@TempDir Path dir) {
    assertThatThrownBy(() -> KubernetesCluster.fromKubeconfig(dir.resolve("none.yaml")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("none.yaml does not exist");
    assertThatThrownBy(
            () -> KubernetesCluster.fromKubeconfig(kubeconfig("private-east"), "private-north"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "has no context 'private-north'; its contexts: [private-east, private-west]");
  }

  @Test
  void readsTheDefaultKubeconfigAndItsContexts() {
    Path file = kubeconfig("private-east");
    String previous = System.getProperty("kubeconfig");
    System.setProperty("kubeconfig", file.toString());
    try (KubernetesCluster current = KubernetesCluster.fromDefaultKubeconfig();
        KubernetesCluster west = KubernetesCluster.fromContext("private-west")) {
      current.checkConnectivity();
      assertThat(current.description()).contains("context 'private-east'");
      assertThat(west.description()).contains("context 'private-west'").contains(closedUrl);
    } finally {
      if (previous == null) {
        System.clearProperty("kubeconfig");
      } else {
        System.setProperty("kubeconfig", previous);
      }
    }
  }

  @Test
  void reportsRejectedCredentialsAsPermanent() {
    try (EmbeddedIstioCluster strict = EmbeddedIstioCluster.builder().typicalIstio(false).start()) {
      // The mock answers /version through a standing expectation; replace it with a 401.
      strict.server().clearExpectations();
      strict
          .server()
          .expect()
          .get()
          .withPath("/version")
          .andReturn(401, Map.of("kind", "Status", "code", 401))
          .always();
      try (KubernetesCluster east =
          KubernetesCluster.fromKubeconfig(
              KubeconfigFiles.write(Map.of("strict", strict.url()), "strict"))) {
        assertThatThrownBy(east::checkConnectivity)
            .isInstanceOf(StageException.class)
            .hasMessageContaining("refused the credentials (401)")
            .satisfies(e -> assertThat(((StageException) e).isTransient()).isFalse());
      }
    }
  }

  @Test
  void checksConnectivityOnlyOnce() {
    try (KubernetesCluster east = KubernetesCluster.fromKubeconfig(kubeconfig("private-east"))) {
      int before = versionRequests();
      east.checkConnectivity();
      east.checkConnectivity();
      assertThat(versionRequests()).isEqualTo(before + 1);
    }
  }

  @Test
  void leavesACallersOwnClientOpen() {
    KubernetesClient own = cluster.cluster().client();
    KubernetesCluster.of(own).close();
    assertThat(own.configMaps().inNamespace("istio-system").list().getItems()).isNotEmpty();
  }

  @Test
  void connectsFromInsideAPodWithItsServiceAccount(@TempDir Path account) throws Exception {
    try (EmbeddedIstioCluster secure = EmbeddedIstioCluster.builder().https(true).start()) {
      java.net.URL url = new java.net.URL(secure.url());
      Files.writeString(account.resolve("token"), "pod-token\n");
      Files.writeString(account.resolve("namespace"), "vms");
      Files.copy(
          Path.of(secure.server().getSelfSignedCertificate().certificatePath()),
          account.resolve("ca.crt"));
      Map<String, String> env =
          Map.of(
              "KUBERNETES_SERVICE_HOST",
              url.getHost(),
              "KUBERNETES_SERVICE_PORT",
              String.valueOf(url.getPort()));
      try (KubernetesCluster pod = KubernetesCluster.inCluster(env, account)) {
        pod.checkConnectivity();
        assertThat(pod.description()).contains("the pod's service account");
        assertThat(pod.client().getNamespace()).isEqualTo("vms");
      }
    }
    assertThatThrownBy(() -> KubernetesCluster.inCluster(Map.of(), account))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not running inside a Kubernetes pod");
  }

  private static int versionRequests() {
    return (int) cluster.requestLog().stream().filter(line -> line.equals("GET /version")).count();
  }
}
