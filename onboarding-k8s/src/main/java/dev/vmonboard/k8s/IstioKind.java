package dev.vmonboard.k8s;

import io.fabric8.kubernetes.client.CustomResource;

/** The Istio kinds the SDK reads and writes. */
enum IstioKind {
  WORKLOAD_ENTRY("WorkloadEntry", "workloadentries", WorkloadEntry.class),
  WORKLOAD_GROUP("WorkloadGroup", "workloadgroups", WorkloadGroup.class),
  SIDECAR("Sidecar", "sidecars", Sidecar.class);

  private final String kind;
  private final String plural;
  private final Class<? extends CustomResource<?, ?>> type;

  IstioKind(String kind, String plural, Class<? extends CustomResource<?, ?>> type) {
    this.kind = kind;
    this.plural = plural;
    this.type = type;
  }

  String kind() {
    return kind;
  }

  String plural() {
    return plural;
  }

  Class<? extends CustomResource<?, ?>> type() {
    return type;
  }

  @Override
  public String toString() {
    return kind;
  }
}
