package dev.vmonboard.k8s;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;
import java.util.Map;

/**
 * Istio's {@code WorkloadGroup}: a template that VMs of one application share; with
 * auto-registration istiod creates their WorkloadEntries when their proxies connect.
 */
@Group(IstioApi.GROUP)
@Version("v1")
@Kind("WorkloadGroup")
@Plural("workloadgroups")
final class WorkloadGroup extends CustomResource<WorkloadGroup.Spec, Void> implements Namespaced {

  private static final long serialVersionUID = 1L;

  /** {@code spec} of a WorkloadGroup. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Spec(Metadata metadata, WorkloadEntry.Spec template, Probe probe) {}

  /** Labels and annotations copied onto the entries created from the group. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Metadata(Map<String, String> labels, Map<String, String> annotations) {
    Metadata {
      labels = Maps.copy(labels);
      annotations = Maps.copy(annotations);
    }
  }

  /** The readiness probe istiod hands to the proxies of the group. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Probe(
      Integer initialDelaySeconds,
      Integer timeoutSeconds,
      Integer periodSeconds,
      Integer successThreshold,
      Integer failureThreshold,
      HttpGet httpGet,
      TcpSocket tcpSocket,
      Exec exec) {}

  /** An HTTP GET probe. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record HttpGet(
      String path, Integer port, String host, String scheme, List<HttpHeader> httpHeaders) {}

  /** A header an HTTP GET probe sends. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record HttpHeader(String name, String value) {}

  /** A TCP connect probe. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record TcpSocket(String host, Integer port) {}

  /** A command probe. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Exec(List<String> command) {}
}
