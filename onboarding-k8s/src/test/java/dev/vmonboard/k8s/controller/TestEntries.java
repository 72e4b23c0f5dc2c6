package dev.vmonboard.k8s.controller;

import dev.vmonboard.k8s.KubernetesCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** WorkloadEntries and ServiceAccounts the tests put into the cluster as a user would. */
final class TestEntries {

  static final String NAMESPACE = "vms";

  private TestEntries() {}

  static void serviceAccount(KubernetesCluster cluster, String name) {
    cluster
        .client()
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .build())
        .create();
  }

  /** Creates WorkloadEntry vms/{@code name} at {@code address}, opted in or not. */
  static GenericKubernetesResource create(
      KubernetesCluster cluster, String name, String address, boolean managed) {
    Map<String, String> annotations = new LinkedHashMap<>();
    if (managed) {
      annotations.put(OnboardingController.MANAGED_ANNOTATION, "true");
    }
    GenericKubernetesResource entry = new GenericKubernetesResource();
    entry.setApiVersion("networking.istio.io/v1");
    entry.setKind("WorkloadEntry");
    entry.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(NAMESPACE)
            .withAnnotations(annotations)
            .build());
    entry.setAdditionalProperty(
        "spec",
        Map.of("address", address, "serviceAccount", "vm-sa", "labels", Map.of("app", name)));
    return cluster.workloadEntries().inNamespace(NAMESPACE).resource(entry).create();
  }

  static GenericKubernetesResource get(KubernetesCluster cluster, String name) {
    return cluster.workloadEntries().inNamespace(NAMESPACE).withName(name).get();
  }

  static Map<String, String> annotations(KubernetesCluster cluster, String name) {
    GenericKubernetesResource entry = get(cluster, name);
    return entry == null || entry.getMetadata().getAnnotations() == null
        ? Map.of()
        : entry.getMetadata().getAnnotations();
  }

  /** Changes the entry as a user would (re-read, change, update). */
  static void edit(
      KubernetesCluster cluster, String name, Consumer<GenericKubernetesResource> change) {
    cluster
        .workloadEntries()
        .inNamespace(NAMESPACE)
        .withName(name)
        .edit(
            entry -> {
              change.accept(entry);
              return entry;
            });
  }

  static void delete(KubernetesCluster cluster, String name) {
    cluster.workloadEntries().inNamespace(NAMESPACE).withName(name).delete();
  }
}
