package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GroupVersionForDiscovery;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedIstioClusterTest {

  @Test
  void seedsTypicalIstioInstallationWithRealSelfSignedRootCertificate() throws Exception {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      KubernetesClient client = cluster.client();
      assertThat(client.namespaces().withName("istio-system").get()).isNotNull();
      ConfigMap mesh = client.configMaps().inNamespace("istio-system").withName("istio").get();
      assertThat(mesh.getData()).containsKeys("mesh", "meshNetworks");
      ConfigMap injector =
          client.configMaps().inNamespace("istio-system").withName("istio-sidecar-injector").get();
      assertThat(injector.getData().get("values")).contains("\"jwtPolicy\":\"third-party-jwt\"");

      String rootPem =
          client
              .configMaps()
              .inNamespace("istio-system")
              .withName("istio-ca-root-cert")
              .get()
              .getData()
              .get("root-cert.pem");
      assertThat(rootPem).isEqualTo(cluster.istioRootCertificatePem());
      X509Certificate root = parse(rootPem);
      root.verify(root.getPublicKey());
      assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
      assertThat(root.getSubjectX500Principal().getName()).isEqualTo("O=cluster.local");
      assertThat(root.getNotAfter().toInstant()).isAfter(Instant.now().plus(Duration.ofDays(365)));

      String kubeCa =
          client
              .configMaps()
              .inNamespace("istio-system")
              .withName("kube-root-ca.crt")
              .get()
              .getData()
              .get("ca.crt");
      assertThat(parse(kubeCa).getSubjectX500Principal().getName()).isEqualTo("CN=kubernetes");
      assertThat(kubeCa).isNotEqualTo(rootPem);

      Service gateway =
          client.services().inNamespace("istio-system").withName("istio-eastwestgateway").get();
      assertThat(gateway.getSpec().getPorts())
          .extracting(p -> p.getPort())
          .contains(15012, 15443, 15017);
      assertThat(gateway.getStatus().getLoadBalancer().getIngress().get(0).getIp())
          .isEqualTo("192.0.2.10");
    }
  }

  @Test
  void eachStartMakesItsOwnRootCertificate() {
    try (EmbeddedIstioCluster first = EmbeddedIstioCluster.start();
        EmbeddedIstioCluster second = EmbeddedIstioCluster.start()) {
      assertThat(first.istioRootCertificatePem()).isNotEqualTo(second.istioRootCertificatePem());
      assertThat(first.url()).isNotEqualTo(second.url());
    }
  }

  @Test
  void answersDiscoveryForTheServedIstioVersionsNewestFirst() {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      APIGroup group = cluster.client().getApiGroup("networking.istio.io");
      assertThat(group.getVersions())
          .extracting(GroupVersionForDiscovery::getVersion)
          .containsExactly("v1", "v1beta1", "v1alpha3");
      assertThat(group.getPreferredVersion().getVersion()).isEqualTo("v1");
      assertThat(cluster.client().getApiResources("networking.istio.io/v1beta1").getResources())
          .extracting(r -> r.getName())
          .contains("workloadentries", "workloadgroups", "sidecars");
    }
    try (EmbeddedIstioCluster older =
        EmbeddedIstioCluster.builder().istioVersions("v1alpha3", "v1beta1").start()) {
      assertThat(older.client().getApiGroup("networking.istio.io").getVersions())
          .extracting(GroupVersionForDiscovery::getVersion)
          .containsExactly("v1beta1", "v1alpha3");
      assertThat(older.client().getApiResources("networking.istio.io/v1")).isNull();
    }
  }

  @Test
  void servesOneObjectAtEveryServedVersionAndRefusesOthers() {
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().istioVersions("v1alpha3", "v1beta1").start()) {
      KubernetesClient client = cluster.client();
      client
          .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1alpha3"))
          .inNamespace("vms")
          .resource(workloadEntry("v1alpha3", "vm-1"))
          .create();

      GenericKubernetesResource asBeta =
          client
              .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1beta1"))
              .inNamespace("vms")
              .withName("vm-1")
              .get();
      assertThat(asBeta.getApiVersion()).isEqualTo("networking.istio.io/v1beta1");
      assertThat(asBeta.get("spec", "address").toString()).isEqualTo("10.0.0.1");
      assertThat(
              client
                  .genericKubernetesResources(
                      IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1alpha3"))
                  .inAnyNamespace()
                  .list()
                  .getItems())
          .extracting(GenericKubernetesResource::getApiVersion)
          .containsExactly("networking.istio.io/v1alpha3");

      assertThatThrownBy(
              () ->
                  client
                      .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
                      .inNamespace("vms")
                      .list())
          .isInstanceOf(KubernetesClientException.class)
          .extracting(e -> ((KubernetesClientException) e).getCode())
          .isEqualTo(404);
    }
  }

  @Test
  void mintsSignedTokensWithTheRequestedAudienceAndLifetime() throws Exception {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      KubernetesClient client = cluster.client();
      TestObjects.serviceAccount(client, "vms", "vm-sa");
      Instant before = Instant.now().minusSeconds(1);
      TokenRequest answer =
          client
              .serviceAccounts()
              .inNamespace("vms")
              .withName("vm-sa")
              .tokenRequest(tokenRequest(7200L));

      Instant expiry = Instant.parse(answer.getStatus().getExpirationTimestamp());
      assertThat(expiry).isBetween(before.plusSeconds(7200), Instant.now().plusSeconds(7201));
      String[] jwt = answer.getStatus().getToken().split("\\.");
      assertThat(jwt).hasSize(3);
      String header = decode(jwt[0]);
      String claims = decode(jwt[1]);
      assertThat(header).contains("\"alg\":\"ES256\"");
      assertThat(claims)
          .contains("\"aud\":[\"istio-ca\"]")
          .contains("\"sub\":\"system:serviceaccount:vms:vm-sa\"")
          .contains("\"exp\":" + expiry.getEpochSecond());
      assertThat(Base64.getUrlDecoder().decode(jwt[2])).hasSize(64);
    }
  }

  @Test
  void tokenRequestsFollowTheApiServerRules() {
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().maxTokenLifetime(Duration.ofHours(1)).start()) {
      KubernetesClient client = cluster.client();
      assertThatThrownBy(
              () ->
                  client
                      .serviceAccounts()
                      .inNamespace("vms")
                      .withName("nobody")
                      .tokenRequest(tokenRequest(3600L)))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("serviceaccounts \"nobody\" not found")
          .extracting(e -> ((KubernetesClientException) e).getCode())
          .isEqualTo(404);

      TestObjects.serviceAccount(client, "vms", "vm-sa");
      assertThatThrownBy(
              () ->
                  client
                      .serviceAccounts()
                      .inNamespace("vms")
                      .withName("vm-sa")
                      .tokenRequest(tokenRequest(60L)))
          .extracting(e -> ((KubernetesClientException) e).getCode())
          .isEqualTo(422);

      TokenRequest capped =
          client
              .serviceAccounts()
              .inNamespace("vms")
              .withName("vm-sa")
              .tokenRequest(tokenRequest(86400L));
      assertThat(capped.getSpec().getExpirationSeconds()).isEqualTo(3600L);
      assertThat(Instant.parse(capped.getStatus().getExpirationTimestamp()))
          .isBefore(Instant.now().plusSeconds(3601));
    }
  }

  @Test
  void loadsCallerManifestsInAnyIstioVersionWithoutBuiltInObjects(@TempDir Path dir)
      throws Exception {
    Path manifest = dir.resolve("exported.yaml");
    Files.writeString(
        manifest,
        String.join(
            "\n",
            "apiVersion: networking.istio.io/v1alpha3",
            "kind: WorkloadEntry",
            "metadata:",
            "  name: legacy-vm",
            "  namespace: vms",
            "  resourceVersion: \"4711\"",
            "  uid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "spec:",
            "  address: 10.0.0.7",
            "  serviceAccount: legacy",
            "---",
            "apiVersion: networking.istio.io/v1beta1",
            "kind: WorkloadGroup",
            "metadata:",
            "  name: group",
            "  namespace: vms",
            "spec:",
            "  template:",
            "    serviceAccount: legacy",
            "---",
            "apiVersion: v1",
            "kind: List",
            "items:",
            "- apiVersion: v1",
            "  kind: ConfigMap",
            "  metadata:",
            "    name: settings",
            "    namespace: vms",
            "  data:",
            "    key: value",
            ""));
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().typicalIstio(false).manifest(manifest).start()) {
      KubernetesClient client = cluster.client();
      assertThat(client.namespaces().withName("istio-system").get()).isNull();
      assertThat(client.namespaces().withName("vms").get()).isNotNull();
      assertThat(client.configMaps().inNamespace("vms").withName("settings").get().getData())
          .containsEntry("key", "value");
      assertThat(
              client
                  .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_ENTRY, "v1"))
                  .inNamespace("vms")
                  .withName("legacy-vm")
                  .get()
                  .getMetadata()
                  .getResourceVersion())
          .isNotEqualTo("4711");
      assertThat(
              client
                  .genericKubernetesResources(IstioApi.context(IstioKind.WORKLOAD_GROUP, "v1"))
                  .inNamespace("vms")
                  .list()
                  .getItems())
          .hasSize(1);
    }
  }

  @Test
  void callerObjectsReplaceBuiltInOnesOfTheSameKindNamespaceAndName() {
    String mesh =
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: ConfigMap",
            "metadata:",
            "  name: istio",
            "  namespace: istio-system",
            "data:",
            "  mesh: 'defaultConfig: {discoveryAddress: istiod.custom.svc:15012}'",
            "");
    try (EmbeddedIstioCluster cluster =
        EmbeddedIstioCluster.builder().manifest("custom-mesh", mesh).start()) {
      ConfigMap istio =
          cluster.client().configMaps().inNamespace("istio-system").withName("istio").get();
      assertThat(istio.getData()).containsOnlyKeys("mesh");
      assertThat(istio.getData().get("mesh")).contains("istiod.custom.svc");
      assertThat(cluster.client().configMaps().inNamespace("istio-system").list().getItems())
          .filteredOn(c -> c.getMetadata().getName().equals("istio"))
          .hasSize(1);
    }
  }

  @Test
  void refusesManifestObjectsOfUnknownKinds() {
    String yaml =
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n  namespace: x\n";
    assertThatThrownBy(() -> EmbeddedIstioCluster.builder().manifest("certs.yaml", yaml).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("manifest certs.yaml")
        .hasMessageContaining("Certificate")
        .hasMessageContaining("CustomResourceDefinition");
    assertThatThrownBy(
            () -> EmbeddedIstioCluster.builder().manifest(Path.of("/nonexistent.yaml")).start())
        .hasMessageContaining("/nonexistent.yaml");
  }

  @Test
  void servesHttpsWithACertificateTheClientTrusts() {
    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.builder().https(true).start()) {
      assertThat(cluster.url()).startsWith("https://");
      assertThat(cluster.client().configMaps().inNamespace("istio-system").list().getItems())
          .isNotEmpty();
    }
  }

  @Test
  void closeStopsTheServer() {
    EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
    String url = cluster.url();
    cluster.close();
    try (KubernetesCluster other =
        KubernetesCluster.fromKubeconfig(
            KubeconfigFiles.write(Map.of("gone", url), "gone"), null)) {
      assertThatThrownBy(other::checkConnectivity).hasMessageContaining("cannot reach");
    }
  }

  static GenericKubernetesResource workloadEntry(String version, String name) {
    GenericKubernetesResource entry = new GenericKubernetesResource();
    entry.setApiVersion("networking.istio.io/" + version);
    entry.setKind("WorkloadEntry");
    entry.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(name)
            .withNamespace("vms")
            .build());
    entry.setAdditionalProperty(
        "spec",
        Map.of("address", "10.0.0.1", "serviceAccount", "vm-sa", "labels", Map.of("app", "vm")));
    return entry;
  }

  private static TokenRequest tokenRequest(long seconds) {
    return new TokenRequestBuilder()
        .withNewSpec()
        .withAudiences(List.of("istio-ca"))
        .withExpirationSeconds(seconds)
        .endSpec()
        .build();
  }

  private static String decode(String part) {
    return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
  }

  private static X509Certificate parse(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
