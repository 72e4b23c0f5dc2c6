package dev.vmonboard.k8s.controller;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.TreeMap;

/** Who holds which shard, as the shard Leases in the cluster say. */
final class LeaseHolders {

  private LeaseHolders() {}

  /** Shard number to holder of the Leases {@code <name>-shard-<n>} in namespace vmonboard. */
  static Map<Integer, String> of(KubernetesClient client, String name) {
    Map<Integer, String> holders = new TreeMap<>();
    String prefix = name + "-shard-";
    for (Lease lease : client.leases().inNamespace("vmonboard").list().getItems()) {
      String leaseName = lease.getMetadata().getName();
      if (leaseName.startsWith(prefix) && lease.getSpec().getHolderIdentity() != null) {
        holders.put(
            Integer.parseInt(leaseName.substring(prefix.length())),
            lease.getSpec().getHolderIdentity());
      }
    }
    return holders;
  }
}
