package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IstioApiTest {

  @Test
  void usesTheNewestVersionTheClusterServes() {
    assertThat(negotiated(List.of("v1alpha3", "v1beta1", "v1"))).isEqualTo("v1");
    assertThat(negotiated(List.of("v1alpha3", "v1beta1"))).isEqualTo("v1beta1");
    assertThat(negotiated(List.of("v1alpha3"))).isEqualTo("v1alpha3");
  }

  @Test
  void negotiatesEachKindOnItsOwnAndOnlyOnce() {
    String olderGroups =
        new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
            .asYaml(TypicalIstio.crd(IstioApi.GROUP, "WorkloadGroup", List.of("v1alpha3")));
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().manifest("older-workloadgroups", olderGroups).start()) {
      IstioApi api = new IstioApi(cluster.cluster());

      assertThat(api.version(IstioKind.WORKLOAD_ENTRY)).isEqualTo("v1");
      assertThat(api.version(IstioKind.WORKLOAD_GROUP)).isEqualTo("v1alpha3");
      int discoveries = discoveryRequests(cluster);
      api.version(IstioKind.WORKLOAD_ENTRY);
      api.version(IstioKind.WORKLOAD_GROUP);
      assertThat(discoveryRequests(cluster)).isEqualTo(discoveries);
    }
  }

  @Test
  void saysIstioIsMissingWhenTheClusterServesNoIstioApi() {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      cluster
          .client()
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .list()
          .getItems()
          .forEach(crd -> cluster.client().resource(crd).delete());

      assertThatThrownBy(() -> new IstioApi(cluster.cluster()).version(IstioKind.WORKLOAD_ENTRY))
          .isInstanceOf(StageException.class)
          .hasMessageContaining("does not serve the networking.istio.io API")
          .hasMessageContaining("Istio is not installed there");
    }
  }

  @Test
  void convertsBetweenTheTypedModelAndTheNegotiatedVersion() {
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().istioVersions("v1beta1").start()) {
      IstioApi api = new IstioApi(cluster.cluster());
      WorkloadEntry entry = new WorkloadEntry();
      entry.setMetadata(new ObjectMetaBuilder().withName("vm-1").withNamespace("vms").build());
      entry.setSpec(
          new WorkloadEntry.Spec(
              "10.0.0.1",
              Map.of("http", 8080),
              Map.of("app", "vm"),
              "net1",
              "us/east",
              3,
              "vm-sa"));

      GenericKubernetesResource generic = api.toGeneric(IstioKind.WORKLOAD_ENTRY, entry);
      api.resources(IstioKind.WORKLOAD_ENTRY).inNamespace("vms").resource(generic).create();
      WorkloadEntry read =
          api.toTyped(
              api.resources(IstioKind.WORKLOAD_ENTRY).inNamespace("vms").withName("vm-1").get(),
              WorkloadEntry.class);

      assertThat(generic.getApiVersion()).isEqualTo("networking.istio.io/v1beta1");
      assertThat(read.getSpec()).isEqualTo(entry.getSpec());
    }
  }

  private static String negotiated(List<String> served) {
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder()
            .typicalIstio(false)
            .istioVersions(served.toArray(String[]::new))
            .start()) {
      return new IstioApi(cluster.cluster()).version(IstioKind.WORKLOAD_ENTRY);
    }
  }

  private static int discoveryRequests(EmbeddedIstioCluster cluster) {
    return (int)
        cluster.requestLog().stream()
            .filter(line -> line.matches("GET /apis(/networking\\.istio\\.io(/v[^/]+)?)?"))
            .count();
  }
}
