package dev.vmonboard.k8s;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Map;

/**
 * Istio's {@code WorkloadEntry}: one VM registered with the mesh.
 *
 * <p>The Java type carries {@code v1}; {@link IstioApi} reads and writes it at whichever version
 * the cluster serves (the spec is the same in {@code v1}, {@code v1beta1} and {@code v1alpha3}).
 */
@Group(IstioApi.GROUP)
@Version("v1")
@Kind("WorkloadEntry")
@Plural("workloadentries")
final class WorkloadEntry extends CustomResource<WorkloadEntry.Spec, Void> implements Namespaced {

  private static final long serialVersionUID = 1L;

  /** {@code spec} of a WorkloadEntry, also the {@code template} of a WorkloadGroup. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Spec(
      String address,
      Map<String, Integer> ports,
      Map<String, String> labels,
      String network,
      String locality,
      Integer weight,
      String serviceAccount) {

    Spec {
      ports = Maps.copy(ports);
      labels = Maps.copy(labels);
    }
  }
}
