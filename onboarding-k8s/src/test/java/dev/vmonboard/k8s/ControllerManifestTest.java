package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import dev.vmonboard.k8s.controller.OnboardingController;
import dev.vmonboard.k8s.controller.Sharding;
import dev.vmonboard.k8s.controller.VmCredentials;
import dev.vmonboard.k8s.controller.VmStages;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The controller's deployment manifests: they parse, they fit together (ServiceAccount, bindings,
 * Deployment, Secret and Lease names), and their RBAC grants exactly what a real run of the
 * controller against the embedded cluster asked for.
 */
class ControllerManifestTest {

  static final String AGENT = "vmonboard-controller-replay";

  static List<HasMetadata> manifest(String file) throws IOException {
    String path = OnboardingController.MANIFESTS + file;
    try (InputStream yaml =
        ControllerManifestTest.class.getClassLoader().getResourceAsStream(path)) {
      assertThat(yaml).as(path + " on the class path").isNotNull();
      return new KubernetesSerialization().unmarshal(yaml);
    }
  }

  @Test
  void theDeploymentRunsSeveralReplicasAsTheServiceAccountTheRbacBinds() throws IOException {
    List<HasMetadata> rbac = manifest("rbac.yaml");
    List<HasMetadata> deployment = manifest("deployment.yaml");

    ServiceAccount account = only(deployment, ServiceAccount.class);
    Deployment controller = only(deployment, Deployment.class);
    String namespace = account.getMetadata().getNamespace();
    assertThat(controller.getMetadata().getNamespace()).isEqualTo(namespace);
    assertThat(controller.getSpec().getReplicas()).isGreaterThanOrEqualTo(3);
    var pod = controller.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo(account.getMetadata().getName());
    assertThat(controller.getSpec().getSelector().getMatchLabels())
        .isEqualTo(controller.getSpec().getTemplate().getMetadata().getLabels());
    var container = pod.getContainers().get(0);
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getResources().getLimits()).containsKey("memory");
    Map<String, EnvVar> env =
        container.getEnv().stream()
            .collect(java.util.stream.Collectors.toMap(EnvVar::getName, e -> e));
    assertThat(env.get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    assertThat(env).containsKeys("POD_NAME", "WATCH_NAMESPACES", "LEASE_NAME");

    Subject subject =
        new Subject(null, "ServiceAccount", account.getMetadata().getName(), namespace);
    Stream.concat(
            rbac.stream()
                .filter(ClusterRoleBinding.class::isInstance)
                .map(o -> ((ClusterRoleBinding) o).getSubjects()),
            rbac.stream()
                .filter(RoleBinding.class::isInstance)
                .map(o -> ((RoleBinding) o).getSubjects()))
        .forEach(subjects -> assertThat(subjects).containsExactly(subject));
    Role self =
        rbac.stream()
            .filter(o -> o instanceof Role r && r.getMetadata().getNamespace().equals(namespace))
            .map(Role.class::cast)
            .findFirst()
            .orElseThrow();
    PolicyRule secrets =
        self.getRules().stream()
            .filter(rule -> rule.getResources().contains("secrets"))
            .findFirst()
            .orElseThrow();
    assertThat(secrets.getResourceNames())
        .containsExactly(env.get("CREDENTIALS_SECRET").getValue());
  }

  @Test
  void theRbacGrantsWhatTheControllerUsesAndNothingMore() throws Exception {
    List<String> requests;
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
        KubernetesClient client = clientOf(cluster)) {
      replay(
          cluster,
          "vmonboard",
          OnboardingController.builder()
              .cluster(KubernetesCluster.of(client))
              .bundleFactory(ContainerBundleFactory.create())
              .credentialsSecret("vmonboard", "vm-ssh")
              .namespaces("vms")
              .sharding(
                  Sharding.leases("vmonboard", "vmonboard-controller")
                      .withTimings(
                          Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(200))));
      requests = cluster.requestLog(AGENT);
    }
    assertThat(requests).anyMatch(line -> line.contains("watch=true"));

    RbacRules.assertGrantsExactly(manifest("rbac.yaml"), requests);
  }

  /**
   * Runs the controller {@code controller} configures (its credentials Secret {@code vm-ssh} in
   * {@code namespace}, WorkloadEntries in {@code vms}; VM stages in memory): onboards two VMs
   * sharing a ServiceAccount, Service and Sidecar, changes one, deletes both.
   */
  static void replay(
      EmbeddedIstioCluster cluster, String namespace, OnboardingController.Builder controller) {
    cluster
        .client()
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("vm-ssh")
                .withNamespace(namespace)
                .endMetadata()
                .withStringData(Map.of(VmCredentials.PRIVATE_KEY, "not a real key"))
                .build())
        .create();
    KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
    List<String> names = List.of("vm-1", "vm-2");
    try (OnboardingController running =
        controller
            .vmStages(
                credentials -> VmStages.of(new InMemoryTransport(), new InMemoryProxyLauncher()))
            .requeueBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
            .pipelineOptions(pipeline -> pipeline.retryPolicy(RetryPolicy.none()))
            .build()) {
      running.start();
      await().atMost(Duration.ofSeconds(20)).until(running::isWatching);
      assertThat(running.isReady()).isTrue();
      for (int i = 0; i < names.size(); i++) {
        Workload vm = KubernetesRegistrarTest.vm(names.get(i), "10.0.0." + (i + 1));
        registrar.register(
            KubernetesRegistrarTest.fullRegistration(
                vm.toBuilder()
                    .putAnnotations(OnboardingController.MANAGED_ANNOTATION, "true")
                    .build()));
      }
      for (String name : names) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> "onboard succeeded".equals(annotation(cluster, name)));
      }
      cluster
          .cluster()
          .workloadEntries()
          .inNamespace("vms")
          .withName("vm-1")
          .edit(
              entry -> {
                entry.getMetadata().getLabels().put("version", "v2");
                return entry;
              });
      for (String name : names) {
        cluster.cluster().workloadEntries().inNamespace("vms").withName(name).delete();
        await().atMost(Duration.ofSeconds(20)).until(() -> entry(cluster, name) == null);
      }
    }
  }

  private static String annotation(EmbeddedIstioCluster cluster, String name) {
    GenericKubernetesResource entry = entry(cluster, name);
    return entry == null || entry.getMetadata().getAnnotations() == null
        ? null
        : entry.getMetadata().getAnnotations().get(OnboardingController.LAST_RESULT);
  }

  private static GenericKubernetesResource entry(EmbeddedIstioCluster cluster, String name) {
    return cluster.cluster().workloadEntries().inNamespace("vms").withName(name).get();
  }

  /** A client of {@code cluster} whose requests the request log attributes to {@link #AGENT}. */
  static KubernetesClient clientOf(EmbeddedIstioCluster cluster) {
    return new KubernetesClientBuilder()
        .withConfig(
            new ConfigBuilder(Config.empty())
                .withMasterUrl(cluster.url())
                .withUserAgent(AGENT)
                .withRequestRetryBackoffLimit(0)
                .build())
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }

  static <T> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> found = new ArrayList<>();
    objects.stream().filter(type::isInstance).map(type::cast).forEach(found::add);
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }
}
