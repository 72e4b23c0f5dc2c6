package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** Objects the tests put into or read from the embedded cluster behind the SDK's back. */
final class TestObjects {

  private TestObjects() {}

  /** Creates ServiceAccount {@code namespace/name} without the SDK's label (a user's own). */
  static void serviceAccount(KubernetesClient client, String namespace, String name) {
    client
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .build())
        .create();
  }

  /** The WorkloadEntries of {@code namespace}, read at v1. */
  static List<GenericKubernetesResource> entries(KubernetesClient client, String namespace) {
    return client
        .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
        .inNamespace(namespace)
        .list()
        .getItems();
  }
}
