package dev.vmonboard.k8s;

import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Maps the core {@link Workload} to Istio's {@link WorkloadEntry} and {@link WorkloadGroup} and
 * back. The SDK's bookkeeping label and annotation stay on the objects and out of the workload.
 *
 * <p>A group's labels are its {@code spec.metadata.labels} with the template's labels over them (as
 * istioctl reads them); its annotations are the object's annotations with {@code
 * spec.metadata.annotations} over them, the object's own kept apart when both are set; its service
 * account is the template's, else {@code default} (as istioctl reads it). Auto-registration is on
 * for a group unless its {@value #AUTO_REGISTER_ANNOTATION} annotation says {@code false}.
 */
final class WorkloadMapping {

  static final String AUTO_REGISTER_ANNOTATION = "vmonboard.dev/auto-register";

  private WorkloadMapping() {}

  static Workload fromEntry(WorkloadEntry entry) {
    ObjectMeta metadata = entry.getMetadata();
    WorkloadEntry.Spec spec = entry.getSpec() == null ? emptySpec() : entry.getSpec();
    return Workload.builder(WorkloadRef.of(metadata.getNamespace(), metadata.getName()))
        .kind(Workload.Kind.WORKLOAD_ENTRY)
        .address(Optional.ofNullable(spec.address()))
        .labels(spec.labels())
        .metadataLabels(Ownership.withoutBookkeeping(metadata.getLabels()))
        .annotations(Ownership.withoutBookkeeping(metadata.getAnnotations()))
        .serviceAccount(Optional.ofNullable(spec.serviceAccount()))
        .network(Optional.ofNullable(spec.network()))
        .ports(spec.ports())
        .build();
  }

  static Workload fromGroup(WorkloadGroup group) {
    ObjectMeta metadata = group.getMetadata();
    WorkloadGroup.Spec spec =
        group.getSpec() == null ? new WorkloadGroup.Spec(null, null, null) : group.getSpec();
    WorkloadGroup.Metadata template =
        spec.metadata() == null ? new WorkloadGroup.Metadata(null, null) : spec.metadata();
    WorkloadEntry.Spec entry = spec.template() == null ? emptySpec() : spec.template();
    Map<String, String> own =
        new LinkedHashMap<>(Ownership.withoutBookkeeping(metadata.getAnnotations()));
    Map<String, String> annotations = new LinkedHashMap<>(own);
    annotations.putAll(template.annotations());
    boolean autoRegister = !"false".equals(annotations.remove(AUTO_REGISTER_ANNOTATION));
    own.remove(AUTO_REGISTER_ANNOTATION);
    Map<String, String> labels = new LinkedHashMap<>(template.labels());
    labels.putAll(entry.labels());
    String serviceAccount =
        entry.serviceAccount() == null || entry.serviceAccount().isEmpty()
            ? "default"
            : entry.serviceAccount();
    return Workload.builder(WorkloadRef.of(metadata.getNamespace(), metadata.getName()))
        .kind(Workload.Kind.WORKLOAD_GROUP)
        .address(Optional.ofNullable(entry.address()))
        .labels(labels)
        .metadataAnnotations(template.annotations().isEmpty() ? Map.of() : own)
        .metadataLabels(Ownership.withoutBookkeeping(metadata.getLabels()))
        .annotations(annotations)
        .serviceAccount(serviceAccount)
        .network(Optional.ofNullable(entry.network()))
        .ports(entry.ports())
        .autoRegister(autoRegister)
        .readinessProbe(Optional.ofNullable(spec.probe()).map(WorkloadMapping::fromProbe))
        .build();
  }

  static WorkloadEntry toEntry(Workload workload) {
    WorkloadEntry entry = new WorkloadEntry();
    entry.setMetadata(metadata(workload, workload.annotations()));
    entry.setSpec(spec(workload, null, null));
    return entry;
  }

  static WorkloadGroup toGroup(Workload workload) {
    Map<String, String> annotations = new LinkedHashMap<>(workload.annotations());
    if (!workload.autoRegister()) {
      annotations.put(AUTO_REGISTER_ANNOTATION, "false");
    }
    WorkloadGroup group = new WorkloadGroup();
    group.setMetadata(metadata(workload, annotations));
    WorkloadEntry.Spec template =
        new WorkloadEntry.Spec(
            null,
            workload.ports(),
            null,
            workload.network().orElse(null),
            null,
            null,
            workload.serviceAccount().orElse(null));
    group.setSpec(
        new WorkloadGroup.Spec(
            new WorkloadGroup.Metadata(workload.labels(), null),
            template,
            workload.readinessProbe().map(WorkloadMapping::toProbe).orElse(null)));
    return group;
  }

  /**
   * The entry's spec from {@code workload}, keeping locality and weight the core does not model.
   */
  static WorkloadEntry.Spec spec(Workload workload, String locality, Integer weight) {
    return new WorkloadEntry.Spec(
        workload.address().orElse(null),
        workload.ports(),
        workload.labels(),
        workload.network().orElse(null),
        locality,
        weight,
        workload.serviceAccount().orElse(null));
  }

  private static ObjectMeta metadata(Workload workload, Map<String, String> annotations) {
    return new ObjectMetaBuilder()
        .withName(workload.name())
        .withNamespace(workload.namespace())
        .withLabels(new LinkedHashMap<>(workload.metadataLabels()))
        .withAnnotations(new LinkedHashMap<>(annotations))
        .build();
  }

  private static WorkloadEntry.Spec emptySpec() {
    return new WorkloadEntry.Spec(null, null, null, null, null, null, null);
  }

  private static ReadinessProbe fromProbe(WorkloadGroup.Probe probe) {
    ReadinessProbe.Builder builder;
    if (probe.httpGet() != null && probe.httpGet().port() != null) {
      builder =
          probe.httpGet().path() == null
              ? ReadinessProbe.httpGet(probe.httpGet().port())
              : ReadinessProbe.httpGet(probe.httpGet().path(), probe.httpGet().port());
      Optional.ofNullable(probe.httpGet().scheme()).ifPresent(builder::httpScheme);
      Optional.ofNullable(probe.httpGet().host()).ifPresent(builder::httpHost);
      if (probe.httpGet().httpHeaders() != null) {
        probe
            .httpGet()
            .httpHeaders()
            .forEach(
                header ->
                    builder.addHttpHeaders(
                        new ReadinessProbe.HttpHeader(header.name(), header.value())));
      }
    } else if (probe.tcpSocket() != null && probe.tcpSocket().port() != null) {
      builder = ReadinessProbe.tcp(probe.tcpSocket().port());
      Optional.ofNullable(probe.tcpSocket().host()).ifPresent(builder::tcpHost);
    } else if (probe.exec() != null && probe.exec().command() != null) {
      builder = ReadinessProbe.exec(probe.exec().command());
    } else {
      return null;
    }
    return builder
        .initialDelaySeconds(Optional.ofNullable(probe.initialDelaySeconds()))
        .periodSeconds(Optional.ofNullable(probe.periodSeconds()))
        .timeoutSeconds(Optional.ofNullable(probe.timeoutSeconds()))
        .successThreshold(Optional.ofNullable(probe.successThreshold()))
        .failureThreshold(Optional.ofNullable(probe.failureThreshold()))
        .build();
  }

  private static WorkloadGroup.Probe toProbe(ReadinessProbe probe) {
    return new WorkloadGroup.Probe(
        probe.initialDelaySeconds().orElse(null),
        probe.timeoutSeconds().orElse(null),
        probe.periodSeconds().orElse(null),
        probe.successThreshold().orElse(null),
        probe.failureThreshold().orElse(null),
        probe.httpPort().isPresent()
            ? new WorkloadGroup.HttpGet(
                probe.httpPath().orElse(null),
                probe.httpPort().get(),
                probe.httpHost().orElse(null),
                probe.httpScheme().orElse(null),
                probe.httpHeaders().stream()
                    .map(header -> new WorkloadGroup.HttpHeader(header.name(), header.value()))
                    .toList())
            : null,
        probe
            .tcpPort()
            .map(port -> new WorkloadGroup.TcpSocket(probe.tcpHost().orElse(null), port))
            .orElse(null),
        probe.execCommand().isEmpty()
            ? null
            : new WorkloadGroup.Exec(List.copyOf(probe.execCommand())));
  }
}
