package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.ReadinessProbe;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KubernetesRegistrarTest {

  private EmbeddedIstioCluster cluster;
  private KubernetesClient client;
  private KubernetesRegistrar registrar;

  @BeforeEach
  void start() {
    cluster = EmbeddedIstioCluster.start();
    client = cluster.client();
    registrar = KubernetesRegistrar.create(cluster.cluster());
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  static Workload vm(String name, String address) {
    return Workload.builder(WorkloadRef.of("vms", name))
        .address(address)
        .serviceAccount("vm-sa")
        .putLabels("app", "backend")
        .putLabels("class", "vm")
        .putMetadataLabels("team", "payments")
        .putAnnotations("sidecar-bootstrap.istio.io/ssh-user", "ops")
        .network("net1")
        .putPorts("http", 8080)
        .build();
  }

  static Registration fullRegistration(Workload workload) {
    return Registration.builder()
        .workload(workload)
        .createServiceAccount(true)
        .service(
            Registration.ServiceSpec.builder()
                .addPorts(Registration.ServicePort.of("http", 80, 8080))
                .build())
        .sidecar(
            Registration.SidecarSpec.builder()
                .addIngress(
                    Registration.SidecarSpec.Ingress.of(8080, "HTTP", "http", "127.0.0.1:8888"))
                .addEgress(Registration.SidecarSpec.Egress.of("127.0.0.2", List.of("./*")))
                .build())
        .build();
  }

  @Test
  void registersTheEntryAndWhatTheRegistrationAsksForMarkedAsManaged() {
    Workload workload = vm("vm-1", "10.0.0.1");
    Workload registered = registrar.register(fullRegistration(workload));

    assertThat(registered).isEqualTo(workload);
    GenericKubernetesResource entry = entry("vm-1");
    assertThat(entry.getApiVersion()).isEqualTo("networking.istio.io/v1");
    assertThat(entry.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "vmonboard")
        .containsEntry("team", "payments");
    assertThat(
            client
                .serviceAccounts()
                .inNamespace("vms")
                .withName("vm-sa")
                .get()
                .getMetadata()
                .getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "vmonboard");
    Service service = client.services().inNamespace("vms").withName("backend").get();
    assertThat(service.getSpec().getSelector()).containsExactlyEntriesOf(Map.of("app", "backend"));
    assertThat(service.getSpec().getPorts().get(0).getTargetPort().getIntVal()).isEqualTo(8080);
    GenericKubernetesResource sidecar =
        client
            .genericKubernetesResources(IstioApi.context(IstioKind.SIDECAR, "v1"))
            .inNamespace("vms")
            .withName("vm-1")
            .get();
    assertThat(sidecar.getMetadata().getAnnotations())
        .containsEntry("vmonboard.dev/registered-for", "vm-1");
    assertThat(sidecar.<String>get("spec", "ingress", 0, "defaultEndpoint"))
        .isEqualTo("127.0.0.1:8888");
    assertThat(sidecar.<String>get("spec", "egress", 0, "bind")).isEqualTo("127.0.0.2");
    assertThat(registrar.resolve(workload.ref())).isEqualTo(workload);
  }

  @Test
  void registeringTwiceLeavesTheSameObjectsUntouched() {
    Registration registration = fullRegistration(vm("vm-1", "10.0.0.1"));
    registrar.register(registration);
    Map<String, String> before = versions();
    int requestsBefore = cluster.requestLog().size();

    registrar.register(registration);

    assertThat(versions()).isEqualTo(before);
    assertThat(cluster.requestLog().subList(requestsBefore, cluster.requestLog().size()))
        .allMatch(line -> line.startsWith("GET "));
    assertThat(client.services().inNamespace("vms").list().getItems()).hasSize(1);
    assertThat(entries()).hasSize(1);
  }

  @Test
  void registeringChangedValuesUpdatesInPlace() {
    registrar.register(fullRegistration(vm("vm-1", "10.0.0.1")));
    Workload moved = vm("vm-1", "10.0.0.9").toBuilder().putLabels("version", "v2").build();

    Workload registered = registrar.register(Registration.of(moved));

    assertThat(registered.address()).contains("10.0.0.9");
    assertThat(registrar.resolve(moved.ref()).labels()).containsEntry("version", "v2");
    assertThat(entries()).hasSize(1);
  }

  @Test
  void retriesAnUpdateThatConflictsWithAConcurrentWriter() {
    registrar.register(Registration.of(vm("vm-1", "10.0.0.1")));
    cluster
        .server()
        .expect()
        .put()
        .withPath("/apis/networking.istio.io/v1/namespaces/vms/workloadentries/vm-1")
        .andReturn(409, Map.of("kind", "Status", "code", 409, "reason", "Conflict"))
        .once();

    Workload registered = registrar.register(Registration.of(vm("vm-1", "10.0.0.2")));

    assertThat(registered.address()).contains("10.0.0.2");
    assertThat(cluster.requestLog().stream().filter(l -> l.startsWith("PUT ")).count())
        .isEqualTo(2);
  }

  @Test
  void deregisterRemovesOnlyManagedObjectsAndKeepsSharedOnesForTheirOtherWorkloads() {
    TestObjects.serviceAccount(client, "vms", "user-sa");
    client
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("user-svc")
                .withNamespace("vms")
                .endMetadata()
                .withNewSpec()
                .addToSelector("app", "backend")
                .endSpec()
                .build())
        .create();
    registrar.register(fullRegistration(vm("vm-1", "10.0.0.1")));
    registrar.register(fullRegistration(vm("vm-2", "10.0.0.2")));
    assertThat(
            client
                .serviceAccounts()
                .inNamespace("vms")
                .withName("vm-sa")
                .get()
                .getMetadata()
                .getAnnotations())
        .containsEntry("vmonboard.dev/registered-for", "vm-1,vm-2");

    assertThat(registrar.deregister(WorkloadRef.of("vms", "vm-1"))).isTrue();

    assertThat(entries()).extracting(e -> e.getMetadata().getName()).containsExactly("vm-2");
    assertThat(client.serviceAccounts().inNamespace("vms").withName("vm-sa").get()).isNotNull();
    assertThat(client.services().inNamespace("vms").withName("backend").get()).isNotNull();

    assertThat(registrar.deregister(WorkloadRef.of("vms", "vm-2"))).isTrue();

    assertThat(entries()).isEmpty();
    assertThat(client.serviceAccounts().inNamespace("vms").list().getItems())
        .extracting(s -> s.getMetadata().getName())
        .containsExactly("user-sa");
    assertThat(client.services().inNamespace("vms").list().getItems())
        .extracting(s -> s.getMetadata().getName())
        .containsExactly("user-svc");
    assertThat(
            client
                .genericKubernetesResources(IstioApi.context(IstioKind.SIDECAR, "v1"))
                .inNamespace("vms")
                .list()
                .getItems())
        .isEmpty();
    assertThat(registrar.deregister(WorkloadRef.of("vms", "vm-2"))).isFalse();
  }

  @Test
  void neverOverwritesOrDeletesAUsersOwnWorkloadEntry() {
    client
        .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1beta1"))
        .inNamespace("vms")
        .resource(EmbeddedIstioClusterTest.workloadEntry("v1beta1", "hand-made"))
        .create();

    assertThatThrownBy(() -> registrar.register(Registration.of(vm("hand-made", "10.0.0.5"))))
        .isInstanceOf(StageException.class)
        .hasMessageContaining(
            "WorkloadEntry vms/hand-made already exists and was not created by vmonboard");
    assertThat(registrar.deregister(WorkloadRef.of("vms", "hand-made"))).isFalse();
    assertThat(entry("hand-made").get("spec", "address").toString()).isEqualTo("10.0.0.1");
  }

  @Test
  void reusesAnExistingServiceAccountWithoutTakingItOver() {
    TestObjects.serviceAccount(client, "vms", "vm-sa");
    registrar.register(fullRegistration(vm("vm-1", "10.0.0.1")));
    assertThat(
            client
                .serviceAccounts()
                .inNamespace("vms")
                .withName("vm-sa")
                .get()
                .getMetadata()
                .getLabels())
        .isNullOrEmpty();

    registrar.deregister(WorkloadRef.of("vms", "vm-1"));

    assertThat(client.serviceAccounts().inNamespace("vms").withName("vm-sa").get()).isNotNull();
  }

  @Test
  void resolvesListsAndSelects() {
    registrar.register(Registration.of(vm("vm-2", "10.0.0.2")));
    registrar.register(Registration.of(vm("vm-1", "10.0.0.1")));
    Workload other =
        Workload.builder(WorkloadRef.of("other", "db"))
            .address("db.example.com")
            .serviceAccount("db")
            .putMetadataLabels("team", "storage")
            .build();
    registrar.register(Registration.of(other));

    assertThat(registrar.list(WorkloadSelector.inNamespace("vms")))
        .extracting(w -> w.ref().toString())
        .containsExactly("vms/vm-1", "vms/vm-2");
    assertThat(registrar.list(WorkloadSelector.allNamespaces()))
        .extracting(w -> w.ref().toString())
        .containsExactly("other/db", "vms/vm-1", "vms/vm-2");
    assertThat(registrar.list(WorkloadSelector.allNamespaces().withLabels("team=storage")))
        .containsExactly(other);
    assertThatThrownBy(() -> registrar.resolve(WorkloadRef.of("vms", "nope")))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("WorkloadEntry vms/nope not found on the embedded Istio cluster");
  }

  @Test
  void registersAWorkloadGroupForAutoRegistration() {
    Workload group =
        Workload.builder(WorkloadRef.of("vms", "backend"))
            .kind(Workload.Kind.WORKLOAD_GROUP)
            .serviceAccount("vm-sa")
            .putLabels("app", "backend")
            .autoRegister(true)
            .readinessProbe(ReadinessProbe.httpGet("/ready", 8080).periodSeconds(5).build())
            .build();

    Workload registered =
        registrar.register(
            Registration.builder().workload(group).createServiceAccount(true).build());

    assertThat(registered).isEqualTo(group);
    GenericKubernetesResource stored =
        client
            .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_GROUP, "v1"))
            .inNamespace("vms")
            .withName("backend")
            .get();
    assertThat(stored.<Object>get("spec", "metadata", "labels", "app")).isEqualTo("backend");
    assertThat(stored.<Object>get("spec", "probe", "httpGet", "path")).isEqualTo("/ready");
    assertThat(registrar.resolve(group.ref())).isEqualTo(group);
    assertThat(registrar.deregister(group.ref())).isTrue();
    assertThat(client.serviceAccounts().inNamespace("vms").withName("vm-sa").get()).isNull();
  }

  @Test
  void aProbesHostAndHeadersGoToTheClusterAndComeBack() {
    for (ReadinessProbe probe :
        List.of(
            ReadinessProbe.httpGet("/ready", 8080)
                .httpHost("10.0.0.9")
                .addHttpHeaders(new ReadinessProbe.HttpHeader("X-Probe", "vm"))
                .addHttpHeaders(new ReadinessProbe.HttpHeader("X-Probe", "again"))
                .build(),
            ReadinessProbe.tcp(9000).tcpHost("10.0.0.8").build())) {
      Workload group =
          Workload.builder(WorkloadRef.of("vms", "probed"))
              .kind(Workload.Kind.WORKLOAD_GROUP)
              .serviceAccount("vm-sa")
              .readinessProbe(probe)
              .build();

      registrar.register(Registration.builder().workload(group).build());

      assertThat(registrar.resolve(group.ref())).isEqualTo(group);
      registrar.deregister(group.ref());
    }
  }

  @Test
  void writesAtTheVersionTheClusterServes() {
    try (EmbeddedIstioCluster older =
        EmbeddedIstioCluster.builder().istioVersions("v1alpha3").start()) {
      KubernetesRegistrar oldRegistrar = KubernetesRegistrar.create(older.cluster());
      oldRegistrar.register(fullRegistration(vm("vm-1", "10.0.0.1")));

      assertThat(older.requestLog())
          .filteredOn(line -> line.startsWith("POST /apis/networking.istio.io"))
          .allMatch(line -> line.contains("/v1alpha3/"))
          .hasSize(2);
      assertThat(oldRegistrar.resolve(WorkloadRef.of("vms", "vm-1")).address())
          .contains("10.0.0.1");
    }
  }

  @Test
  void refusesInvalidWorkloadsBeforeWritingAnything() {
    Workload invalid =
        Workload.builder(WorkloadRef.of("vms", "bad"))
            .address("not an address!")
            .putLabels("bad key!", "x")
            .build();
    int before = cluster.requestLog().size();

    assertThatThrownBy(() -> registrar.register(Registration.of(invalid)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("vms/bad")
        .hasMessageContaining("spec.serviceAccount")
        .hasMessageContaining("spec.address")
        .hasMessageContaining("spec.labels");
    assertThat(cluster.requestLog()).hasSize(before);
  }

  @Test
  void reportsUnreadableEntriesNamingTheObjectAndField() {
    GenericKubernetesResource broken = EmbeddedIstioClusterTest.workloadEntry("v1", "broken");
    broken.setAdditionalProperty(
        "spec", Map.of("address", "10.0.0.1", "ports", Map.of("http", "not-a-number")));
    client
        .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
        .inNamespace("vms")
        .resource(broken)
        .create();

    assertThatThrownBy(() -> registrar.resolve(WorkloadRef.of("vms", "broken")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("vms/broken")
        .hasMessageContaining("spec");
  }

  @Test
  void describesWhatItWouldDoWithoutDoingIt() {
    int before = cluster.requestLog().size();
    List<String> plan = registrar.describeRegistration(fullRegistration(vm("vm-1", "10.0.0.1")));
    assertThat(plan).hasSize(4);
    assertThat(plan.get(2)).contains("Service vms/backend selecting {app=backend}");
    assertThat(registrar.describeDeregistration(WorkloadRef.of("vms", "vm-1"))).isNotEmpty();
    assertThat(cluster.requestLog()).hasSize(before);
  }

  private GenericKubernetesResource entry(String name) {
    return client
        .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
        .inNamespace("vms")
        .withName(name)
        .get();
  }

  private List<GenericKubernetesResource> entries() {
    return TestObjects.entries(client, "vms");
  }

  private Map<String, String> versions() {
    return Stream.of(
            client.serviceAccounts().inNamespace("vms").list().getItems().stream(),
            client.services().inNamespace("vms").list().getItems().stream(),
            entries().stream(),
            client
                .genericKubernetesResources(IstioApi.context(IstioKind.SIDECAR, "v1"))
                .inNamespace("vms")
                .list()
                .getItems()
                .stream())
        .flatMap(s -> s.map(HasMetadata.class::cast))
        .collect(
            Collectors.toMap(
                h -> h.getKind() + "/" + h.getMetadata().getName(),
                h -> h.getMetadata().getResourceVersion()));
  }
}
