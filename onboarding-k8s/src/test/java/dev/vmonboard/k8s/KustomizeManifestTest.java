package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.k8s.controller.ControllerEnvironment;
import dev.vmonboard.k8s.controller.OnboardingController;
import dev.vmonboard.k8s.controller.Sharding;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The controller's Kustomize base and the example overlay, rendered by {@code kubectl kustomize}:
 * the base is the shipped manifests with probes on the health endpoints; the overlay moves
 * everything to its namespace but the mesh reader (istio-system) and swaps the image. The overlay
 * applied to the embedded cluster, the controller configured from its Deployment's environment
 * runs, and the rendered RBAC grants exactly the requests of that run.
 */
class KustomizeManifestTest {

  static final Path BASE = Path.of("src/main/resources", OnboardingController.MANIFESTS);
  static final Path EXAMPLE = Path.of("controller-app/kustomize/example");

  @Test
  void theBaseIsTheShippedManifestsWithHealthProbes() throws Exception {
    List<HasMetadata> base = Kustomize.render(BASE);
    List<HasMetadata> shipped = new ArrayList<>(ControllerManifestTest.manifest("rbac.yaml"));
    shipped.addAll(ControllerManifestTest.manifest("deployment.yaml"));
    assertThat(base.stream().map(KustomizeManifestTest::id))
        .containsExactlyInAnyOrderElementsOf(
            shipped.stream().map(KustomizeManifestTest::id).toList());

    Container container = container(base);
    assertThat(container.getCommand())
        .as("the image's entry point runs the controller")
        .isNullOrEmpty();
    assertThat(container.getImage())
        .isEqualTo("vmonboard-controller:" + System.getProperty("vmonboard.version"));
    Map<String, String> env = env(container, "vmonboard", "pod-0");
    int port = Integer.parseInt(env.get("HEALTH_PORT"));
    assertThat(container.getPorts())
        .anyMatch(p -> p.getContainerPort() == port && "health".equals(p.getName()));
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
    assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/livez");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    Stream.of(
            container.getLivenessProbe(),
            container.getStartupProbe(),
            container.getReadinessProbe())
        .forEach(probe -> assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("health"));
  }

  @Test
  void theOverlayMovesTheControllerAndSwapsTheImageButLeavesTheMeshReaderInIstioSystem()
      throws Exception {
    List<HasMetadata> overlay = Kustomize.render(EXAMPLE);
    String namespace = "vmonboard-system";
    for (HasMetadata object : overlay) {
      String expected =
          object.getMetadata().getName().equals("vmonboard-controller-mesh-reader")
              ? "istio-system"
              : namespace;
      if (object.getMetadata().getNamespace() != null) {
        assertThat(object.getMetadata().getNamespace()).as(id(object)).isEqualTo(expected);
      }
    }
    Subject account = new Subject(null, "ServiceAccount", "vmonboard-controller", namespace);
    overlay.stream()
        .flatMap(
            o ->
                o instanceof RoleBinding b
                    ? b.getSubjects().stream()
                    : o instanceof ClusterRoleBinding c ? c.getSubjects().stream() : Stream.empty())
        .forEach(subject -> assertThat(subject).isEqualTo(account));
    assertThat(container(overlay).getImage())
        .isEqualTo("registry.example.com/platform/vmonboard-controller:0.1.0");
  }

  @Test
  void theOverlayAppliedGrantsWhatTheControllerItConfiguresUsesAndNothingMore() throws Exception {
    List<HasMetadata> overlay = Kustomize.render(EXAMPLE);
    List<String> requests;
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
        KubernetesClient client = ControllerManifestTest.clientOf(cluster)) {
      Deployment applied = apply(cluster, overlay);
      String namespace = applied.getMetadata().getNamespace();
      Map<String, String> env =
          env(applied.getSpec().getTemplate().getSpec().getContainers().get(0), namespace, "pod-0");
      ControllerManifestTest.replay(
          cluster,
          namespace,
          ControllerEnvironment.configure(KubernetesCluster.of(client), env)
              // The same Lease with shorter timings, so that the test does not wait for them.
              .sharding(
                  Sharding.leases(namespace, env.get(ControllerEnvironment.LEASE_NAME))
                      .withIdentity("pod-0")
                      .withTimings(
                          Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(200))));
      requests = cluster.requestLog(ControllerManifestTest.AGENT);
    }
    assertThat(requests).anyMatch(line -> line.contains("watch=true"));

    RbacRules.assertGrantsExactly(overlay, requests);
  }

  /**
   * Creates every object, as {@code kubectl apply -k} would, and returns the Deployment read back.
   */
  private static Deployment apply(EmbeddedIstioCluster cluster, List<HasMetadata> objects) {
    KubernetesClient admin = cluster.client();
    objects.stream()
        .map(o -> o.getMetadata().getNamespace())
        .filter(n -> n != null && admin.namespaces().withName(n).get() == null)
        .distinct()
        .forEach(
            n ->
                admin
                    .namespaces()
                    .resource(
                        new NamespaceBuilder().withNewMetadata().withName(n).endMetadata().build())
                    .create());
    for (HasMetadata object : objects) {
      admin.resource(object).create();
    }
    Deployment deployment = ControllerManifestTest.only(objects, Deployment.class);
    return admin
        .apps()
        .deployments()
        .inNamespace(deployment.getMetadata().getNamespace())
        .withName(deployment.getMetadata().getName())
        .get();
  }

  /** The container's environment as the kubelet would set it for pod {@code pod}. */
  private static Map<String, String> env(Container container, String namespace, String pod) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar var : container.getEnv()) {
      if (var.getValueFrom() != null) {
        String field = var.getValueFrom().getFieldRef().getFieldPath();
        env.put(var.getName(), field.equals("metadata.namespace") ? namespace : pod);
      } else {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }

  private static Container container(List<HasMetadata> objects) {
    return ControllerManifestTest.only(objects, Deployment.class)
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  private static String id(HasMetadata object) {
    return object.getKind() + " " + object.getMetadata().getName();
  }
}
