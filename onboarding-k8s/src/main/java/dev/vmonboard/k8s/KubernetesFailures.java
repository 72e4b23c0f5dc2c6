package dev.vmonboard.k8s;

import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Turns fabric8 failures into the SDK's {@link StageException}s: what was attempted on which object
 * of which cluster, what the API server said, and what to do. Connection failures, 5xx and 429 are
 * transient (the pipeline retries them, waiting at least as long as the API server's {@code
 * retryAfterSeconds} asks); 404 is a {@link NotFoundException}; a 403 names the exact permission
 * that is missing. Messages never contain request bodies, so never a token.
 */
final class KubernetesFailures {

  /** Where the SDK's minimal RBAC lives, on the class path and in the source tree. */
  static final String RBAC_RESOURCE = "dev/vmonboard/k8s/rbac.yaml";

  private KubernetesFailures() {}

  /** The first request to the cluster failed. */
  static StageException unreachable(KubernetesCluster cluster, KubernetesClientException e) {
    if (e.getCode() == 401) {
      return StageException.permanent(
          "the API server of " + cluster.description() + " refused the credentials (401)",
          "renew the credentials of that context (log in again, or refresh the token in the"
              + " kubeconfig)",
          e);
    }
    if (e.getCode() >= 400 && e.getCode() != 429 && e.getCode() < 500) {
      return StageException.permanent(
          "the API server of "
              + cluster.description()
              + " answered "
              + e.getCode()
              + " to a version request: "
              + statusMessage(e),
          "check that the kubeconfig points at a Kubernetes API server",
          e);
    }
    return StageException.transientFailure(
        "cannot reach the API server of " + cluster.description() + ": " + rootCause(e),
        "check that the cluster runs and is reachable from here (kubectl version with the same"
            + " kubeconfig and context), that no VPN or proxy is missing, and that this is the"
            + " context you meant",
        e);
  }

  /**
   * A failed request: {@code verb} on {@code resource} (e.g. {@code serviceaccounts/token}) of
   * {@code group} for the object {@code namespace/name} (name may be null for lists).
   */
  static StageException failed(
      KubernetesCluster cluster,
      KubernetesClientException e,
      String verb,
      String group,
      String resource,
      String namespace,
      String name) {
    String object =
        resource
            + (name == null ? "" : " " + (namespace == null ? "" : namespace + "/") + name)
            + (name == null && namespace != null ? " in namespace " + namespace : "");
    String attempt = verb + " " + object + " on " + cluster.description();
    int code = e.getCode();
    if (code == 0 || isConnectionFailure(e)) {
      return StageException.transientFailure(
          "cannot reach the API server to " + attempt + ": " + rootCause(e),
          "check the network path to the cluster; the request is retried",
          e);
    }
    if (code == 404) {
      return new NotFoundException(object + " not found on " + cluster.description(), null);
    }
    if (code == 403) {
      String permission =
          "'"
              + verb
              + "' on "
              + (group.isEmpty() ? "" : group + "/")
              + resource
              + (namespace == null ? " (cluster-wide)" : " in namespace " + namespace);
      return StageException.permanent(
          "forbidden: the identity of "
              + cluster.description()
              + " may not "
              + attempt
              + " (missing permission "
              + permission
              + "): "
              + statusMessage(e),
          "grant "
              + permission
              + " to that identity; the SDK's minimal Role and ClusterRole are in "
              + RBAC_RESOURCE
              + " (on the class path of onboarding-k8s)",
          e);
    }
    if (code == 401) {
      return StageException.permanent(
          "the API server refused the credentials (401) to " + attempt,
          "renew the credentials of that context (log in again, or refresh the token)",
          e);
    }
    Integer retryAfter = retryAfterSeconds(e);
    Duration wait = retryAfter == null ? null : Duration.ofSeconds(Math.max(0, retryAfter));
    if (code == 429) {
      return StageException.transientFailure(
          "the API server is throttling requests (429) to " + attempt,
          retryAfter == null
              ? "the request is retried; lower the pipeline's concurrency if this persists"
              : "the API server asks to retry after "
                  + retryAfter
                  + " s; lower the pipeline's concurrency if this persists",
          wait,
          e);
    }
    if (code >= 500) {
      return StageException.transientFailure(
          "the API server failed (" + code + ") to " + attempt + ": " + statusMessage(e),
          "the request is retried"
              + (retryAfter == null ? "" : " after " + retryAfter + " s, as the API server asks")
              + "; check the API server's health if this persists",
          wait,
          e);
    }
    return StageException.permanent(
        "the API server refused (" + code + ") to " + attempt + ": " + statusMessage(e), null, e);
  }

  /** The cluster does not serve {@code kind} at a version the SDK knows. */
  static StageException istioNotServed(
      KubernetesCluster cluster, IstioKind kind, List<String> servedVersions) {
    if (servedVersions.isEmpty()) {
      return StageException.permanent(
          cluster.description()
              + " does not serve the "
              + IstioApi.GROUP
              + " API, so it has no "
              + kind
              + " resources: Istio is not installed there, or its CRDs are missing",
          "install Istio in that cluster (istioctl install), or pick the context of the mesh's"
              + " cluster");
    }
    return StageException.permanent(
        cluster.description()
            + " serves "
            + IstioApi.GROUP
            + " at "
            + servedVersions
            + " but not "
            + kind
            + " at any version the SDK knows "
            + IstioApi.KNOWN_VERSIONS,
        "upgrade Istio to a release that serves " + kind + " (1.8 or later)");
  }

  static String statusMessage(KubernetesClientException e) {
    Status status = e.getStatus();
    if (status != null && status.getMessage() != null && !status.getMessage().isBlank()) {
      return status.getMessage();
    }
    return rootCause(e);
  }

  private static Integer retryAfterSeconds(KubernetesClientException e) {
    Status status = e.getStatus();
    return status == null || status.getDetails() == null
        ? null
        : status.getDetails().getRetryAfterSeconds();
  }

  private static boolean isConnectionFailure(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof IOException) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
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
