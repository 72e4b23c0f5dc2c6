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
 * Istio's {@code Sidecar}: where the proxy of the selected workloads forwards inbound traffic and
 * which hosts it may reach.
 */
@Group(IstioApi.GROUP)
@Version("v1")
@Kind("Sidecar")
@Plural("sidecars")
final class Sidecar extends CustomResource<Sidecar.Spec, Void> implements Namespaced {

  private static final long serialVersionUID = 1L;

  /** {@code spec} of a Sidecar. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Spec(WorkloadSelector workloadSelector, List<Ingress> ingress, List<Egress> egress) {
    Spec {
      ingress = ingress == null ? List.of() : List.copyOf(ingress);
      egress = egress == null ? List.of() : List.copyOf(egress);
    }
  }

  /** The labels of the workloads the Sidecar applies to. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record WorkloadSelector(Map<String, String> labels) {
    WorkloadSelector {
      labels = Maps.copy(labels);
    }
  }

  /** A port of a listener. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Port(Integer number, String protocol, String name) {}

  /** An inbound listener. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Ingress(Port port, String bind, String defaultEndpoint) {}

  /** An outbound listener. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Egress(Port port, String bind, List<String> hosts) {
    Egress {
      hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }
  }
}
