package dev.vmonboard.k8s;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.Registrar;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BinaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link Registrar}: registers VMs as Istio {@code WorkloadEntry} objects (or a {@code
 * WorkloadGroup} for auto-registration) in a Kubernetes cluster, with the ServiceAccount, Service
 * and Sidecar a registration asks for.
 *
 * <p>{@link #register} is idempotent: it creates what is missing, updates what differs (with
 * optimistic locking, re-reading on conflict) and writes nothing when everything already matches.
 * Every object it creates carries the label {@value #MANAGED_BY_LABEL}={@value #MANAGED_BY_VALUE}
 * and lists the workloads it was registered for in {@value #REGISTERED_FOR_ANNOTATION}; {@link
 * #deregister} deletes a shared object only when its last workload goes, and never touches an
 * object without the label: an existing ServiceAccount of the user's is reused as it is, and an
 * existing WorkloadEntry, Service or Sidecar of the user's is refused rather than overwritten.
 *
 * <p>Istio objects are read and written at the newest {@code networking.istio.io} version the
 * cluster serves ({@code v1}, {@code v1beta1} or {@code v1alpha3}). {@link #list} returns
 * WorkloadEntries (a label selector matches their metadata labels); {@link #resolve} finds an
 * entry, else a group. Failures are {@link dev.vmonboard.core.StageException}s naming the object
 * and verb; thread-safe.
 */
public final class KubernetesRegistrar implements Registrar {

  /** The label on every object the SDK creates. */
  public static final String MANAGED_BY_LABEL = Ownership.MANAGED_BY_LABEL;

  /** The value of {@link #MANAGED_BY_LABEL}. */
  public static final String MANAGED_BY_VALUE = Ownership.MANAGED_BY_VALUE;

  /** The annotation listing the workloads a managed object was registered for. */
  public static final String REGISTERED_FOR_ANNOTATION = Ownership.REGISTERED_FOR_ANNOTATION;

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesRegistrar.class);
  private static final String NETWORKING = IstioApi.GROUP;

  private final KubernetesCluster cluster;
  private final IstioApi istio;
  private final KubernetesSerialization json;

  private KubernetesRegistrar(KubernetesCluster cluster) {
    this.cluster = cluster;
    this.istio = new IstioApi(cluster);
    this.json = cluster.client().getKubernetesSerialization();
  }

  /** A registrar writing to {@code cluster}. */
  public static KubernetesRegistrar create(KubernetesCluster cluster) {
    return new KubernetesRegistrar(Objects.requireNonNull(cluster, "cluster"));
  }

  @Override
  public Workload register(Registration registration) {
    Workload workload = registration.workload().validate();
    // The ServiceAccount first: istiod should never see a workload whose identity does not exist.
    if (registration.createServiceAccount()) {
      upsertServiceAccount(workload);
    }
    Workload registered =
        workload.kind() == Workload.Kind.WORKLOAD_GROUP
            ? upsertGroup(workload)
            : upsertEntry(workload);
    registration.service().ifPresent(spec -> upsertService(workload, spec));
    registration.sidecar().ifPresent(spec -> upsertSidecar(workload, spec));
    LOG.debug("registered {} on {}", workload.ref(), cluster.description());
    return registered;
  }

  private Workload upsertEntry(Workload workload) {
    GenericKubernetesResource stored =
        upsertIstio(
            IstioKind.WORKLOAD_ENTRY,
            WorkloadMapping.toEntry(workload),
            workload.name(),
            this::mergeEntry);
    return WorkloadMapping.fromEntry(typed(stored, WorkloadEntry.class));
  }

  private Workload upsertGroup(Workload workload) {
    GenericKubernetesResource stored =
        upsertIstio(
            IstioKind.WORKLOAD_GROUP,
            WorkloadMapping.toGroup(workload),
            workload.name(),
            KubernetesRegistrar::replaceSpec);
    return WorkloadMapping.fromGroup(typed(stored, WorkloadGroup.class));
  }

  @Override
  public Workload resolve(WorkloadRef ref) {
    GenericKubernetesResource entry = get(IstioKind.WORKLOAD_ENTRY, ref.namespace(), ref.name());
    if (entry != null) {
      return WorkloadMapping.fromEntry(typed(entry, WorkloadEntry.class));
    }
    GenericKubernetesResource group = get(IstioKind.WORKLOAD_GROUP, ref.namespace(), ref.name());
    if (group != null) {
      return WorkloadMapping.fromGroup(typed(group, WorkloadGroup.class));
    }
    throw new NotFoundException(
        "WorkloadEntry "
            + ref
            + " not found on "
            + cluster.description()
            + " (nor a WorkloadGroup of that name)",
        "check the name, namespace and context (kubectl get workloadentries -n "
            + ref.namespace()
            + "), or register the workload first");
  }

  /** The WorkloadEntries, then the WorkloadGroups, that {@code selector} selects, sorted. */
  @Override
  public List<Workload> list(WorkloadSelector selector) {
    List<Workload> workloads = new ArrayList<>();
    for (GenericKubernetesResource item : listItems(IstioKind.WORKLOAD_ENTRY, selector)) {
      workloads.add(WorkloadMapping.fromEntry(typed(item, WorkloadEntry.class)));
    }
    for (GenericKubernetesResource item : listItems(IstioKind.WORKLOAD_GROUP, selector)) {
      workloads.add(WorkloadMapping.fromGroup(typed(item, WorkloadGroup.class)));
    }
    workloads.sort(Comparator.comparing(Workload::ref));
    return workloads;
  }

  private List<GenericKubernetesResource> listItems(IstioKind kind, WorkloadSelector selector) {
    String namespace = selector.namespace().orElse(null);
    return cluster.call(
        "list",
        NETWORKING,
        kind.plural(),
        namespace,
        null,
        () -> {
          var operation = istio.resources(kind);
          var scoped =
              namespace == null ? operation.inAnyNamespace() : operation.inNamespace(namespace);
          return selector.labelSelector().isPresent()
              ? scoped.withLabelSelector(selector.labelSelector().get()).list().getItems()
              : scoped.list().getItems();
        });
  }

  @Override
  public boolean deregister(WorkloadRef ref) {
    boolean changed = false;
    for (IstioKind kind : List.of(IstioKind.WORKLOAD_ENTRY, IstioKind.WORKLOAD_GROUP)) {
      GenericKubernetesResource object = get(kind, ref.namespace(), ref.name());
      if (object == null) {
        continue;
      }
      if (Ownership.isManaged(object.getMetadata())) {
        cluster.call(
            "delete",
            NETWORKING,
            kind.plural(),
            ref.namespace(),
            ref.name(),
            () -> istio.resources(kind).inNamespace(ref.namespace()).withName(ref.name()).delete());
        changed = true;
      } else {
        LOG.debug("{} {} was not created by vmonboard; left in place", kind, ref);
      }
    }
    KubernetesClient client = cluster.client();
    changed |=
        release(ref, "", "serviceaccounts", client.serviceAccounts().inNamespace(ref.namespace()));
    changed |= release(ref, "", "services", client.services().inNamespace(ref.namespace()));
    changed |=
        release(
            ref,
            NETWORKING,
            IstioKind.SIDECAR.plural(),
            istio.resources(IstioKind.SIDECAR).inNamespace(ref.namespace()));
    return changed;
  }

  /**
   * Keeps {@code record} as annotations on the WorkloadEntry (or WorkloadGroup), whoever created
   * it: they carry the SDK's own prefix, which Istio does not pass to the proxy.
   */
  @Override
  public void recordBootstrap(WorkloadRef ref, BootstrapRecord record) {
    for (IstioKind kind : List.of(IstioKind.WORKLOAD_ENTRY, IstioKind.WORKLOAD_GROUP)) {
      boolean recorded =
          cluster.call(
              "update",
              NETWORKING,
              kind.plural(),
              ref.namespace(),
              ref.name(),
              () ->
                  ManagedObjects.annotate(
                      istio.resources(kind).inNamespace(ref.namespace()),
                      ref.name(),
                      record.toAnnotations()));
      if (recorded) {
        return;
      }
    }
    throw new NotFoundException(
        "cannot record the bootstrap of "
            + ref
            + ": its WorkloadEntry is gone from "
            + cluster.description(),
        "it was deleted while onboarding ran; register it again");
  }

  @Override
  public List<String> describeRegistration(Registration registration) {
    Workload workload = registration.workload();
    String kind =
        workload.kind() == Workload.Kind.WORKLOAD_GROUP ? "WorkloadGroup" : "WorkloadEntry";
    List<String> lines = new ArrayList<>();
    lines.add("create or update " + kind + " " + workload.ref() + " on " + cluster.description());
    if (registration.createServiceAccount()) {
      lines.add(
          "create ServiceAccount "
              + workload.namespace()
              + "/"
              + workload.serviceAccount().orElse("?")
              + " unless it exists");
    }
    registration
        .service()
        .ifPresent(
            spec ->
                lines.add(
                    "create or update Service "
                        + workload.namespace()
                        + "/"
                        + serviceName(workload, spec)
                        + " selecting "
                        + selector(workload, spec.selector())));
    registration
        .sidecar()
        .ifPresent(
            spec ->
                lines.add(
                    "create or update Sidecar "
                        + workload.namespace()
                        + "/"
                        + spec.name().orElse(workload.name())));
    return lines;
  }

  @Override
  public List<String> describeDeregistration(WorkloadRef ref) {
    return List.of(
        "delete WorkloadEntry or WorkloadGroup " + ref + " if vmonboard created it",
        "delete the ServiceAccount, Service and Sidecar vmonboard created for "
            + ref
            + " in "
            + ref.namespace()
            + ", unless other workloads still use them");
  }

  // --- writing --------------------------------------------------------------------------

  /** Creates or updates {@code desired} (see {@link ManagedObjects#upsert}), errors translated. */
  private <T extends HasMetadata> T upsert(
      String group,
      String resource,
      NonNamespaceOperation<T, ?, ? extends Resource<T>> operation,
      T desired,
      String owner,
      BinaryOperator<T> merge,
      ManagedObjects.Unmanaged unmanaged) {
    return cluster.call(
        "create or update",
        group,
        resource,
        desired.getMetadata().getNamespace(),
        desired.getMetadata().getName(),
        () -> ManagedObjects.upsert(operation, desired, owner, merge, unmanaged, json));
  }

  private GenericKubernetesResource upsertIstio(
      IstioKind kind,
      HasMetadata typed,
      String owner,
      BinaryOperator<GenericKubernetesResource> merge) {
    return upsert(
        NETWORKING,
        kind.plural(),
        istio.resources(kind).inNamespace(typed.getMetadata().getNamespace()),
        istio.toGeneric(kind, typed),
        owner,
        merge,
        ManagedObjects.Unmanaged.REFUSE);
  }

  private GenericKubernetesResource mergeEntry(
      GenericKubernetesResource existing, GenericKubernetesResource desired) {
    WorkloadEntry current = typed(existing, WorkloadEntry.class);
    WorkloadEntry wanted = typed(desired, WorkloadEntry.class);
    WorkloadEntry.Spec old = current.getSpec();
    WorkloadEntry.Spec spec = wanted.getSpec();
    // Keep what the core model does not carry (locality, weight) as the cluster has it.
    WorkloadEntry.Spec merged =
        new WorkloadEntry.Spec(
            spec.address(),
            spec.ports(),
            spec.labels(),
            spec.network(),
            old == null ? null : old.locality(),
            old == null ? null : old.weight(),
            spec.serviceAccount());
    existing.setAdditionalProperty("spec", json.convertValue(merged, Map.class));
    mergeMetadata(existing, desired);
    return existing;
  }

  /** The desired spec and metadata over the existing object (for kinds the SDK fully owns). */
  private static GenericKubernetesResource replaceSpec(
      GenericKubernetesResource existing, GenericKubernetesResource desired) {
    existing.setAdditionalProperty("spec", desired.getAdditionalProperties().get("spec"));
    mergeMetadata(existing, desired);
    return existing;
  }

  /** Labels and annotations of {@code desired} over those of {@code existing}. */
  private static void mergeMetadata(HasMetadata existing, HasMetadata desired) {
    Map<String, String> labels =
        new LinkedHashMap<>(Ownership.orEmpty(existing.getMetadata().getLabels()));
    labels.putAll(Ownership.orEmpty(desired.getMetadata().getLabels()));
    existing.getMetadata().setLabels(labels);
    Map<String, String> annotations =
        new LinkedHashMap<>(Ownership.orEmpty(existing.getMetadata().getAnnotations()));
    annotations.putAll(Ownership.orEmpty(desired.getMetadata().getAnnotations()));
    existing.getMetadata().setAnnotations(annotations);
  }

  private GenericKubernetesResource get(IstioKind kind, String namespace, String name) {
    return cluster.call(
        "get",
        NETWORKING,
        kind.plural(),
        namespace,
        name,
        () -> istio.resources(kind).inNamespace(namespace).withName(name).get());
  }

  private <T extends HasMetadata> T typed(GenericKubernetesResource resource, Class<T> type) {
    try {
      return istio.toTyped(resource, type);
    } catch (RuntimeException e) {
      WorkloadRef ref =
          WorkloadRef.of(resource.getMetadata().getNamespace(), resource.getMetadata().getName());
      throw InvalidInputException.of(
          ref,
          resource.getKind(),
          Problem.of("spec", "cannot be read: " + KubernetesFailures.rootCause(e)));
    }
  }

  // --- ServiceAccount, Service, Sidecar ----------------------------------------------------

  private void upsertServiceAccount(Workload workload) {
    String name = workload.serviceAccount().orElseThrow();
    String namespace = workload.namespace();
    ServiceAccount desired = new ServiceAccount();
    desired.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    upsert(
        "",
        "serviceaccounts",
        cluster.client().serviceAccounts().inNamespace(namespace),
        desired,
        workload.name(),
        (existing, wanted) -> existing,
        ManagedObjects.Unmanaged.REUSE);
  }

  private void upsertService(Workload workload, Registration.ServiceSpec spec) {
    String name = serviceName(workload, spec);
    String namespace = workload.namespace();
    Map<String, String> selector = selector(workload, spec.selector());
    List<ServicePort> ports = new ArrayList<>();
    for (Registration.ServicePort port : spec.ports()) {
      ports.add(
          new ServicePortBuilder()
              .withName(port.name())
              .withPort(port.port())
              .withNewTargetPort(port.targetPort())
              .withProtocol(port.protocol())
              .build());
    }
    Service desired =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .addToLabels(selector)
            .endMetadata()
            .withNewSpec()
            .withSelector(selector)
            .withPorts(ports)
            .endSpec()
            .build();
    upsert(
        "",
        "services",
        cluster.client().services().inNamespace(namespace),
        desired,
        workload.name(),
        (existing, wanted) -> {
          // Keep what the API server assigned (clusterIP, type defaults); set ports and selector.
          existing.getSpec().setSelector(wanted.getSpec().getSelector());
          existing.getSpec().setPorts(wanted.getSpec().getPorts());
          mergeMetadata(existing, wanted);
          return existing;
        },
        ManagedObjects.Unmanaged.REFUSE);
  }

  private void upsertSidecar(Workload workload, Registration.SidecarSpec spec) {
    List<Sidecar.Ingress> ingress = new ArrayList<>();
    for (Registration.SidecarSpec.Ingress in : spec.ingress()) {
      ingress.add(
          new Sidecar.Ingress(
              new Sidecar.Port(in.port(), in.protocol(), in.name()), null, in.defaultEndpoint()));
    }
    List<Sidecar.Egress> egress = new ArrayList<>();
    for (Registration.SidecarSpec.Egress out : spec.egress()) {
      egress.add(new Sidecar.Egress(null, out.bind().orElse(null), out.hosts()));
    }
    Sidecar sidecar = new Sidecar();
    sidecar.setMetadata(
        new ObjectMetaBuilder()
            .withName(spec.name().orElse(workload.name()))
            .withNamespace(workload.namespace())
            .build());
    sidecar.setSpec(
        new Sidecar.Spec(
            new Sidecar.WorkloadSelector(selector(workload, spec.selector())), ingress, egress));
    upsertIstio(IstioKind.SIDECAR, sidecar, workload.name(), KubernetesRegistrar::replaceSpec);
  }

  private static String serviceName(Workload workload, Registration.ServiceSpec spec) {
    return spec.name().orElse(workload.labels().getOrDefault("app", workload.name()));
  }

  /** The given selector, else the workload's {@code app} label, else all its labels. */
  private static Map<String, String> selector(Workload workload, Map<String, String> given) {
    if (!given.isEmpty()) {
      return given;
    }
    String app = workload.labels().get("app");
    if (app != null) {
      return Map.of("app", app);
    }
    if (workload.labels().isEmpty()) {
      throw InvalidInputException.of(
          workload.ref(),
          "registration",
          Problem.of(
              "spec.labels",
              "is empty, so a Service or Sidecar cannot select the workload; give the workload an"
                  + " app label or the spec an explicit selector"));
    }
    return workload.labels();
  }

  // --- deregistration ----------------------------------------------------------------------

  /** {@link ManagedObjects#release} for one kind in the workload's namespace, errors translated. */
  private <T extends HasMetadata> boolean release(
      WorkloadRef ref,
      String group,
      String resource,
      NonNamespaceOperation<T, ? extends KubernetesResourceList<T>, ? extends Resource<T>>
          operation) {
    return cluster.call(
        "release",
        group,
        resource,
        ref.namespace(),
        null,
        () -> ManagedObjects.release(operation, ref.name()));
  }
}
