package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.testing.InMemoryProxyLauncher;
import dev.vmonboard.core.testing.InMemoryTransport;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Replays what the SDK does (discovery, registration of an entry and a group, listing, onboarding,
 * offboarding) against the embedded cluster and checks that the shipped RBAC manifest grants every
 * request it made, and that the manifest grants nothing the SDK does not use.
 */
class RbacManifestTest {

  private static final Pattern RESOURCE =
      Pattern.compile(
          "/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?");

  /** One authorization check, as the API server makes it. */
  record Access(String verb, String group, String resource, String namespace) {}

  @Test
  void grantsEveryRequestTheSdkMakesAndNothingMore() throws Exception {
    List<HasMetadata> manifest;
    try (InputStream yaml =
        getClass().getClassLoader().getResourceAsStream(KubernetesFailures.RBAC_RESOURCE)) {
      assertThat(yaml).as(KubernetesFailures.RBAC_RESOURCE + " on the class path").isNotNull();
      manifest = new KubernetesSerialization().unmarshal(yaml);
    }

    List<Access> used = new ArrayList<>();
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      int seeded = cluster.requestLog().size();
      replayEverything(cluster);
      for (String line : cluster.requestLog().subList(seeded, cluster.requestLog().size())) {
        access(line).ifPresent(used::add);
      }
    }

    assertThat(used).isNotEmpty();
    List<Access> denied = used.stream().filter(a -> !allowed(manifest, a)).distinct().toList();
    assertThat(denied).as("requests the RBAC manifest does not grant").isEmpty();
    for (PolicyRule rule : rules(manifest)) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          assertThat(used)
              .as("the manifest grants %s on %s, which the SDK never uses", verb, resource)
              .anyMatch(a -> a.verb().equals(verb) && a.resource().equals(resource));
        }
      }
    }
  }

  private static void replayEverything(EmbeddedIstioCluster cluster) {
    KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
    OnboardingPipeline pipeline =
        OnboardingPipeline.builder()
            .registrar(registrar)
            .tokenIssuer(ServiceAccountTokenIssuer.create(cluster.cluster()))
            .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
            .bundleFactory(KubernetesPipelineTest.BUNDLES)
            .transport(new InMemoryTransport())
            .launcher(new InMemoryProxyLauncher())
            .retryPolicy(new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)))
            .build();
    pipeline
        .onboard(
            KubernetesRegistrarTest.fullRegistration(
                KubernetesRegistrarTest.vm("vm-1", "10.0.0.1")))
        .orThrow();
    // A second run updates what changed: the entry's address and the Sidecar's endpoint.
    Registration moved =
        KubernetesRegistrarTest.fullRegistration(KubernetesRegistrarTest.vm("vm-1", "10.0.0.9"));
    pipeline
        .onboard(
            Registration.builder()
                .from(moved)
                .sidecar(
                    dev.vmonboard.core.Registration.SidecarSpec.builder()
                        .addIngress(
                            dev.vmonboard.core.Registration.SidecarSpec.Ingress.of(
                                8080, "HTTP", "http", "127.0.0.1:9999"))
                        .build())
                .build())
        .orThrow();
    pipeline
        .onboard(
            KubernetesRegistrarTest.fullRegistration(
                KubernetesRegistrarTest.vm("vm-2", "10.0.0.2")))
        .orThrow();
    Workload group =
        Workload.builder(WorkloadRef.of("vms", "group"))
            .kind(Workload.Kind.WORKLOAD_GROUP)
            .serviceAccount("vm-sa")
            .putLabels("app", "backend")
            .readinessProbe(ReadinessProbe.tcp(8080).build())
            .build();
    registrar.register(Registration.of(group));
    registrar.register(Registration.of(group.toBuilder().putLabels("version", "v2").build()));
    registrar.list(WorkloadSelector.allNamespaces());
    // Naming an unknown revision lists the installed ones.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                KubernetesMeshDiscovery.builder(cluster.cluster())
                    .revision("canary")
                    .build()
                    .snapshot())
        .isInstanceOf(dev.vmonboard.core.NotFoundException.class);
    pipeline.offboardAll(WorkloadSelector.inNamespace("vms"));
    registrar.deregister(WorkloadRef.of("vms", "group"));
  }

  /** The authorization check of one request line; empty for discovery and /version. */
  private static java.util.Optional<Access> access(String line) {
    String method = line.substring(0, line.indexOf(' '));
    String path = line.substring(line.indexOf(' ') + 1);
    String query = path.contains("?") ? path.substring(path.indexOf('?') + 1) : "";
    path = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    Matcher m = RESOURCE.matcher(path);
    if (!m.matches()) {
      return java.util.Optional.empty();
    }
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(3) + (m.group(5) == null ? "" : "/" + m.group(5));
    boolean named = m.group(4) != null;
    String verb =
        switch (method) {
          case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> method;
        };
    return java.util.Optional.of(new Access(verb, group, resource, m.group(2)));
  }

  private static boolean allowed(List<HasMetadata> manifest, Access access) {
    for (HasMetadata object : manifest) {
      if (object instanceof ClusterRoleBinding binding) {
        if (matches(clusterRole(manifest, binding.getRoleRef().getName()).getRules(), access)) {
          return true;
        }
      } else if (object instanceof RoleBinding binding
          && binding.getMetadata().getNamespace().equals(access.namespace())
          && binding.getRoleRef().getKind().equals("Role")) {
        Role role =
            manifest.stream()
                .filter(
                    o ->
                        o instanceof Role r
                            && r.getMetadata().getName().equals(binding.getRoleRef().getName()))
                .map(Role.class::cast)
                .findFirst()
                .orElseThrow();
        if (matches(role.getRules(), access)) {
          return true;
        }
      }
    }
    return false;
  }

  private static ClusterRole clusterRole(List<HasMetadata> manifest, String name) {
    return manifest.stream()
        .filter(o -> o instanceof ClusterRole r && r.getMetadata().getName().equals(name))
        .map(ClusterRole.class::cast)
        .findFirst()
        .orElseThrow();
  }

  private static boolean matches(List<PolicyRule> rules, Access access) {
    return rules.stream()
        .anyMatch(
            r ->
                r.getApiGroups().contains(access.group())
                    && r.getResources().contains(access.resource())
                    && r.getVerbs().contains(access.verb()));
  }

  private static List<PolicyRule> rules(List<HasMetadata> manifest) {
    List<PolicyRule> rules = new ArrayList<>();
    for (HasMetadata object : manifest) {
      if (object instanceof ClusterRole role) {
        rules.addAll(role.getRules());
      } else if (object instanceof Role role) {
        rules.addAll(role.getRules());
      }
    }
    return rules;
  }
}
