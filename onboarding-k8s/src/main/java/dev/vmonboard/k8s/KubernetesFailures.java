package dev.vmonboard.k8s;

import io.fabric8.kubernetes.client.KubernetesClientException;

/** Turns fabric8 failures into the SDK's errors: what went wrong, where, and what to do. */
final class KubernetesFailures {

  private KubernetesFailures() {}

  /** The first request to the cluster failed. */
  static RuntimeException unreachable(KubernetesCluster cluster, KubernetesClientException e) {
    String message;
    String hint;
    if (e.getCode() == 401) {
      message = "the API server of " + cluster.description() + " refused the credentials (401)";
      hint =
          "renew the credentials of that context (log in again, or refresh the token in the"
              + " kubeconfig)";
    } else {
      message = "cannot reach the API server of " + cluster.description() + ": " + rootCause(e);
      hint =
          "check that the cluster runs and is reachable from here (kubectl version with the same"
              + " kubeconfig and context), that no VPN or proxy is missing, and that this is the"
              + " context you meant";
    }
    return new IllegalStateException(message + ". " + hint, e);
  }

  /** The cluster does not serve {@code kind} at a version the SDK knows. */
  static RuntimeException istioNotServed(
      KubernetesCluster cluster, IstioKind kind, java.util.List<String> servedVersions) {
    String message =
        servedVersions.isEmpty()
            ? cluster.description()
                + " does not serve the "
                + IstioApi.GROUP
                + " API, so it has no "
                + kind
                + " resources: Istio is not installed there, or its CRDs are missing"
            : cluster.description()
                + " serves "
                + IstioApi.GROUP
                + " at "
                + servedVersions
                + " but not "
                + kind
                + " at any version the SDK knows "
                + IstioApi.KNOWN_VERSIONS;
    String hint =
        servedVersions.isEmpty()
            ? "install Istio in that cluster (istioctl install), or pick the context of the mesh's"
                + " cluster"
            : "upgrade Istio to a release that serves " + kind + " (1.8 or later)";
    return new IllegalStateException(message + ". " + hint);
  }

  static String rootCause(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    String text = cause.getMessage();
    return text == null || text.isBlank() ? cause.getClass().getSimpleName() : text;
  }
}
