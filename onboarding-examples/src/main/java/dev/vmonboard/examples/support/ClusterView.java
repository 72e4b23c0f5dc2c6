package dev.vmonboard.examples.support;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a namespace holds that VM onboarding touches, one line per object, read back from the API
 * server ({@code kubectl get serviceaccount,workloadentry,service,sidecar -n NS}).
 */
public final class ClusterView {

  private static final ResourceDefinitionContext WORKLOAD_ENTRIES =
      istio("WorkloadEntry", "workloadentries");
  private static final ResourceDefinitionContext SIDECARS = istio("Sidecar", "sidecars");

  private ClusterView() {}

  /** The objects of {@code namespace} whose name is {@code name} (or that select it). */
  public static List<String> objectsOf(KubernetesClient client, String namespace, String name) {
    List<String> lines = new ArrayList<>();
    for (ServiceAccount account :
        client.serviceAccounts().inNamespace(namespace).list().getItems()) {
      if (!"default".equals(account.getMetadata().getName())) {
        lines.add("ServiceAccount " + namespace + "/" + account.getMetadata().getName());
      }
    }
    for (GenericKubernetesResource entry : list(client, WORKLOAD_ENTRIES, namespace)) {
      if (name.equals(entry.getMetadata().getName())) {
        Map<String, Object> spec = spec(entry);
        lines.add(
            "WorkloadEntry "
                + namespace
                + "/"
                + name
                + ": address "
                + spec.get("address")
                + ", network "
                + spec.get("network")
                + ", serviceAccount "
                + spec.get("serviceAccount")
                + ", labels "
                + labels(spec.get("labels")));
      }
    }
    for (Service service : client.services().inNamespace(namespace).list().getItems()) {
      if (name.equals(service.getMetadata().getName())) {
        lines.add(
            "Service "
                + namespace
                + "/"
                + name
                + ": selector "
                + labels(service.getSpec().getSelector())
                + ", ports "
                + service.getSpec().getPorts().stream()
                    .map(port -> port.getName() + " " + port.getPort())
                    .collect(Collectors.joining(", ")));
      }
    }
    for (GenericKubernetesResource sidecar : list(client, SIDECARS, namespace)) {
      if (name.equals(sidecar.getMetadata().getName())) {
        lines.add("Sidecar " + namespace + "/" + name + ": " + sidecarSummary(spec(sidecar)));
      }
    }
    return lines;
  }

  private static List<GenericKubernetesResource> list(
      KubernetesClient client, ResourceDefinitionContext context, String namespace) {
    return client.genericKubernetesResources(context).inNamespace(namespace).list().getItems();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(GenericKubernetesResource object) {
    Object spec = object.getAdditionalProperties().get("spec");
    return spec instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  private static String labels(Object labels) {
    if (!(labels instanceof Map<?, ?> map) || map.isEmpty()) {
      return "{}";
    }
    return new TreeMap<>(map)
        .entrySet().stream()
            .map(label -> label.getKey() + "=" + label.getValue())
            .collect(Collectors.joining(",", "{", "}"));
  }

  private static String sidecarSummary(Map<String, Object> spec) {
    List<String> parts = new ArrayList<>();
    for (Object in : asList(spec.get("ingress"))) {
      Map<?, ?> ingress = (Map<?, ?>) in;
      Map<?, ?> port = (Map<?, ?>) ingress.get("port");
      parts.add(
          "ingress "
              + port.get("number")
              + "/"
              + port.get("protocol")
              + " -> "
              + ingress.get("defaultEndpoint"));
    }
    for (Object out : asList(spec.get("egress"))) {
      Map<?, ?> egress = (Map<?, ?>) out;
      parts.add(
          "egress bind "
              + (egress.get("bind") == null ? "*" : egress.get("bind"))
              + " hosts "
              + String.join(
                  ", ", asList(egress.get("hosts")).stream().map(String::valueOf).toList()));
    }
    return String.join("; ", parts);
  }

  private static List<?> asList(Object value) {
    return value instanceof List<?> list ? list : List.of();
  }

  private static ResourceDefinitionContext istio(String kind, String plural) {
    return new ResourceDefinitionContext.Builder()
        .withGroup("networking.istio.io")
        .withVersion("v1")
        .withKind(kind)
        .withPlural(plural)
        .withNamespaced(true)
        .build();
  }
}
