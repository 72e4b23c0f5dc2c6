package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Kubernetes API server with Istio installed, in this JVM: for tests, examples and host
 * applications' own tests. It is fabric8's mock API server in CRUD mode, reached over real HTTP on
 * a loopback port, so everything the SDK does against it goes through the same client code as
 * against a real cluster.
 *
 * <pre>{@code
 * try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
 *   KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
 *   ...
 * }
 * }</pre>
 *
 * <p>{@link #start()} seeds a typical Istio installation: the Istio CRDs (served as {@code v1},
 * {@code v1beta1} and {@code v1alpha3}), the {@code istio-system} namespace with the {@code istio}
 * and {@code istio-sidecar-injector} ConfigMaps, {@code istio-ca-root-cert} holding a real
 * self-signed CA certificate made at start, {@code kube-root-ca.crt}, istiod and an {@code
 * istio-eastwestgateway} Service with a load-balancer address and the ports 15012, 15443 and 15017.
 * {@link #builder()} replaces or extends that with manifest files (multi-document YAML, for example
 * exported from a real cluster): the caller's objects replace built-in ones of the same kind,
 * namespace and name.
 *
 * <p>Beyond CRUD it answers API discovery from the CRDs it holds, serves custom resources at every
 * version their CRD serves, and mints tokens for the TokenRequest API: a signed JWT with the
 * requested audiences and expiry for a ServiceAccount that exists, 404 for one that does not.
 *
 * <p>It needs {@code io.fabric8:kubernetes-server-mock} and {@code org.bouncycastle:bcpkix-jdk18on}
 * on the class path; {@code onboarding-k8s} declares both as optional, so add them (test scope)
 * where you use this class.
 */
public final class EmbeddedIstioCluster implements AutoCloseable {

  private final KubernetesMockServer server;
  private final EmbeddedApiServer api;
  private final KubernetesClient client;
  private final KubernetesCluster cluster;
  private final String istioRootCertificatePem;
  private final String kubernetesCaCertificatePem;

  private EmbeddedIstioCluster(
      KubernetesMockServer server,
      EmbeddedApiServer api,
      KubernetesClient client,
      String istioRootCertificatePem,
      String kubernetesCaCertificatePem) {
    this.server = server;
    this.api = api;
    this.client = client;
    this.cluster = KubernetesCluster.of(client, "the embedded Istio cluster at " + url(server));
    this.istioRootCertificatePem = istioRootCertificatePem;
    this.kubernetesCaCertificatePem = kubernetesCaCertificatePem;
  }

  /** Starts a cluster with a typical Istio installation, over plain HTTP. */
  public static EmbeddedIstioCluster start() {
    return builder().start();
  }

  /** A builder, to choose manifests, served Istio versions, token limits and HTTPS. */
  public static Builder builder() {
    return new Builder();
  }

  /** A client of this cluster, owned by it: closed by {@link #close()}. */
  public KubernetesClient client() {
    return client;
  }

  /** This cluster as the Kubernetes stages take it. */
  public KubernetesCluster cluster() {
    return cluster;
  }

  /** The API server's URL, e.g. {@code http://localhost:41234/}. */
  public String url() {
    return url(server);
  }

  /** The PEM of the Istio root CA made at start (in {@code istio-ca-root-cert}). */
  public String istioRootCertificatePem() {
    return istioRootCertificatePem;
  }

  /** The PEM of the Kubernetes CA made at start (in {@code kube-root-ca.crt}). */
  public String kubernetesCaCertificatePem() {
    return kubernetesCaCertificatePem;
  }

  /** The mock server, for tests that inject failures with expectations. */
  KubernetesMockServer server() {
    return server;
  }

  /**
   * Every request the cluster received, oldest first, as {@code METHOD path?query}: for tests that
   * check what was (or was not) asked of the API server, e.g. that no TokenRequest was made.
   */
  public List<String> requestLog() {
    return api.requestLog();
  }

  /** The requests of clients whose User-Agent starts with {@code userAgent}. */
  List<String> requestLog(String userAgent) {
    return api.requestLog(userAgent);
  }

  /**
   * Makes the next {@code times} requests {@code method path} (the path as the client sends it,
   * query included) fail with HTTP {@code code} and a Kubernetes {@code Status}, as an overloaded
   * or failing API server answers; every other request is served as usual. For tests of how callers
   * survive API failures.
   *
   * @param method {@code GET}, {@code POST}, {@code PUT}, {@code PATCH} or {@code DELETE}
   */
  public void failNext(String method, String path, int code, int times) {
    failNext(method, path, code, times, null);
  }

  /**
   * As {@link #failNext(String, String, int, int)}, with a {@code Retry-After} header and the
   * Status' {@code details.retryAfterSeconds} set to {@code retryAfter}, as an API server that
   * throttles (429) or is briefly unavailable (503) answers.
   */
  public void failNext(String method, String path, int code, int times, Duration retryAfter) {
    if (code < 400 || code > 599 || times < 1) {
      throw new IllegalArgumentException(
          "a failure is a 4xx or 5xx code answered at least once, not " + code + " x" + times);
    }
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("apiVersion", "v1");
    status.put("kind", "Status");
    status.put("status", "Failure");
    status.put("code", code);
    status.put("reason", code == 429 ? "TooManyRequests" : code == 409 ? "Conflict" : "Failure");
    status.put("message", "injected failure " + code + " of the embedded cluster");
    if (retryAfter != null) {
      status.put("details", Map.of("retryAfterSeconds", retryAfter.toSeconds()));
    }
    var expectation =
        switch (method.toUpperCase(java.util.Locale.ROOT)) {
          case "GET" -> server.expect().get();
          case "POST" -> server.expect().post();
          case "PUT" -> server.expect().put();
          case "PATCH" -> server.expect().patch();
          case "DELETE" -> server.expect().delete();
          default -> throw new IllegalArgumentException("unknown HTTP method " + method);
        };
    var response = expectation.withPath(path).andReturn(code, status);
    if (retryAfter != null) {
      response = response.withHeader("Retry-After", Long.toString(retryAfter.toSeconds()));
    }
    response.times(times);
  }

  /** Stops the server and closes the client. */
  @Override
  public void close() {
    try {
      client.close();
    } finally {
      server.destroy();
    }
  }

  @Override
  public String toString() {
    return "EmbeddedIstioCluster[" + url() + "]";
  }

  private static String url(KubernetesMockServer server) {
    return server.url("/");
  }

  /** Chooses what the embedded cluster holds and how it behaves. */
  public static final class Builder {

    private boolean typicalIstio = true;
    private final List<Manifest> manifests = new ArrayList<>();
    private List<String> istioVersions = TypicalIstio.allNetworkingVersions();
    private Duration maxTokenLifetime;
    private boolean https;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Whether to seed a typical Istio installation (default true). Without it the cluster holds the
     * Istio CRDs and the manifests' objects only.
     */
    public Builder typicalIstio(boolean seed) {
      this.typicalIstio = seed;
      return this;
    }

    /** Adds the objects of a multi-document YAML file, applied in the order given. */
    public Builder manifest(Path file) {
      Objects.requireNonNull(file, "file");
      manifests.add(new Manifest(file.toString(), () -> Files.readString(file)));
      return this;
    }

    /** Adds the objects of a multi-document YAML text; {@code name} appears in errors. */
    public Builder manifest(String name, String yaml) {
      Objects.requireNonNull(yaml, "yaml");
      manifests.add(new Manifest(name, () -> yaml));
      return this;
    }

    /**
     * The versions at which the built-in Istio CRDs serve the {@code networking.istio.io} kinds
     * (default {@code v1}, {@code v1beta1}, {@code v1alpha3}), to act as an older or newer Istio.
     */
    public Builder istioVersions(String... versions) {
      List<String> chosen = List.of(versions);
      for (String version : chosen) {
        if (!TypicalIstio.allNetworkingVersions().contains(version)) {
          throw new IllegalArgumentException(
              "unknown networking.istio.io version '"
                  + version
                  + "'; choose from "
                  + TypicalIstio.allNetworkingVersions());
        }
      }
      if (chosen.isEmpty()) {
        throw new IllegalArgumentException("at least one networking.istio.io version is needed");
      }
      this.istioVersions = chosen;
      return this;
    }

    /**
     * Caps the lifetime of minted tokens, as the API server flag {@code
     * --service-account-max-token-expiration} does; by default the requested lifetime is granted.
     */
    public Builder maxTokenLifetime(Duration max) {
      if (max.compareTo(Duration.ofMinutes(10)) < 0) {
        throw new IllegalArgumentException("the maximum token lifetime must be 10 minutes or more");
      }
      this.maxTokenLifetime = max;
      return this;
    }

    /**
     * The clock that dates minted tokens (issue time and expiry); the system clock by default.
     * Tests that move a clock forward give the same clock to the cluster and to the code under
     * test, so that tokens expire on the same time line.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Serves HTTPS with a self-signed certificate the client trusts, instead of plain HTTP. */
    public Builder https(boolean useHttps) {
      this.https = useHttps;
      return this;
    }

    /**
     * Starts the server, seeds it and connects a client.
     *
     * @throws IllegalStateException when the mock server or Bouncy Castle is not on the class path
     * @throws IllegalArgumentException when a manifest cannot be read or holds an object of a kind
     *     the cluster does not know
     */
    public EmbeddedIstioCluster start() {
      requireClass(
          "io.fabric8.kubernetes.client.server.mock.KubernetesMockServer",
          "io.fabric8:kubernetes-server-mock");
      requireClass(
          "org.bouncycastle.cert.X509v3CertificateBuilder", "org.bouncycastle:bcpkix-jdk18on");
      KubernetesSerialization json = new KubernetesSerialization();
      List<LoadedObject> manifestObjects = new ArrayList<>();
      for (Manifest manifest : manifests) {
        manifestObjects.addAll(manifest.load(json));
      }
      SelfSignedCa istioRoot = SelfSignedCa.generate("O=cluster.local", Duration.ofDays(3650));
      SelfSignedCa kubernetesCa = SelfSignedCa.generate("CN=kubernetes", Duration.ofDays(3650));
      TokenMinter minter;
      try {
        minter = new TokenMinter(SelfSignedCa.ecKeyPair(), json);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot make a token signing key", e);
      }
      Map<ServerRequest, Queue<ServerResponse>> expectations = new ConcurrentHashMap<>();
      EmbeddedApiServer api =
          new EmbeddedApiServer(expectations, minter, maxTokenLifetime, json, clock);
      KubernetesMockServer server =
          new KubernetesMockServer(new Context(), new MockWebServer(), expectations, api, https);
      server.init();
      KubernetesClient client = null;
      try {
        client = connect(server);
        List<LoadedObject> objects = new ArrayList<>();
        for (CustomResourceDefinition crd : TypicalIstio.crds(istioVersions)) {
          objects.add(new LoadedObject("built-in Istio CRDs", crd));
        }
        if (typicalIstio) {
          for (HasMetadata object :
              TypicalIstio.objects(istioRoot.certificatePem(), kubernetesCa.certificatePem())) {
            objects.add(new LoadedObject("built-in Istio installation", object));
          }
        }
        objects.addAll(manifestObjects);
        Seeder.seed(client, objects);
        return new EmbeddedIstioCluster(
            server, api, client, istioRoot.certificatePem(), kubernetesCa.certificatePem());
      } catch (RuntimeException e) {
        if (client != null) {
          client.close();
        }
        server.destroy();
        throw e;
      }
    }

    private static KubernetesClient connect(KubernetesMockServer server) {
      ConfigBuilder config =
          new ConfigBuilder(Config.empty())
              .withMasterUrl(server.url("/"))
              .withNamespace("default")
              .withRequestRetryBackoffLimit(0);
      if (server.getSelfSignedCertificate() != null && server.url("/").startsWith("https")) {
        config.withCaCertFile(server.getSelfSignedCertificate().certificatePath());
      }
      return new KubernetesClientBuilder()
          .withConfig(config.build())
          .withHttpClientFactory(new JdkHttpClientFactory())
          .build();
    }

    private static void requireClass(String className, String artifact) {
      try {
        Class.forName(className, false, EmbeddedIstioCluster.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(
            "EmbeddedIstioCluster needs "
                + artifact
                + " on the class path; onboarding-k8s declares it optional, so add it (test"
                + " scope) to the project that uses the embedded cluster",
            e);
      }
    }
  }

  /** A manifest to read at start. */
  private static final class Manifest {
    private final String name;
    private final YamlSource source;

    Manifest(String name, YamlSource source) {
      this.name = name;
      this.source = source;
    }

    List<LoadedObject> load(KubernetesSerialization json) {
      String yaml;
      try {
        yaml = source.read();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read manifest " + name, e);
      }
      List<LoadedObject> objects = new ArrayList<>();
      try {
        Object parsed =
            json.unmarshal(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
        collect(parsed, objects);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "manifest " + name + " is not Kubernetes YAML: " + KubernetesFailures.rootCause(e), e);
      }
      return objects;
    }

    private void collect(Object parsed, List<LoadedObject> objects) {
      if (parsed == null) {
        return;
      }
      if (parsed instanceof List<?> documents) {
        for (Object document : documents) {
          collect(document, objects);
        }
      } else if (parsed instanceof io.fabric8.kubernetes.api.model.KubernetesResourceList<?> list) {
        for (Object item : list.getItems()) {
          collect(item, objects);
        }
      } else if (parsed instanceof HasMetadata object) {
        if (object.getMetadata() == null || object.getMetadata().getName() == null) {
          throw new IllegalArgumentException(
              "manifest " + name + ": a " + object.getKind() + " has no metadata.name");
        }
        objects.add(new LoadedObject("manifest " + name, object));
      } else {
        throw new IllegalArgumentException(
            "manifest "
                + name
                + " holds something that is not a Kubernetes object: "
                + parsed.getClass().getSimpleName());
      }
    }
  }

  /** Reads a manifest's text. */
  @FunctionalInterface
  private interface YamlSource {
    String read() throws IOException;
  }

  /** An object to create, with where it came from for errors. */
  private static final class LoadedObject {
    final String origin;
    final HasMetadata object;

    LoadedObject(String origin, HasMetadata object) {
      this.origin = origin;
      this.object = object;
    }

    /** Kind, group, namespace and name: what makes two objects the same across versions. */
    String key() {
      String apiVersion = object.getApiVersion() == null ? "" : object.getApiVersion();
      String group =
          apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
      return group
          + "|"
          + object.getKind()
          + "|"
          + namespaceOrEmpty()
          + "|"
          + object.getMetadata().getName();
    }

    String namespaceOrEmpty() {
      String namespace = object.getMetadata().getNamespace();
      return namespace == null ? "" : namespace;
    }
  }

  /** Creates seed objects: CRDs first, then namespaces, then the rest; later duplicates win. */
  private static final class Seeder {

    private Seeder() {}

    static void seed(KubernetesClient client, List<LoadedObject> objects) {
      Map<String, LoadedObject> unique = new LinkedHashMap<>();
      for (LoadedObject object : objects) {
        unique.remove(object.key());
        unique.put(object.key(), object);
      }
      Map<String, CustomResourceDefinition> crds = new HashMap<>();
      List<LoadedObject> ordered = new ArrayList<>();
      for (LoadedObject object : unique.values()) {
        if (object.object instanceof CustomResourceDefinition crd) {
          crds.put(crd.getSpec().getGroup() + "|" + crd.getSpec().getNames().getKind(), crd);
          ordered.add(0, object);
        }
      }
      Set<String> namespaces = new LinkedHashSet<>();
      Set<String> declaredNamespaces = new LinkedHashSet<>();
      for (LoadedObject object : unique.values()) {
        if (object.object instanceof Namespace) {
          declaredNamespaces.add(object.object.getMetadata().getName());
          ordered.add(object);
        }
      }
      for (LoadedObject object : unique.values()) {
        if (!(object.object instanceof CustomResourceDefinition)
            && !(object.object instanceof Namespace)) {
          ordered.add(object);
          if (!object.namespaceOrEmpty().isEmpty()) {
            namespaces.add(object.namespaceOrEmpty());
          }
        }
      }
      namespaces.removeAll(declaredNamespaces);
      for (String namespace : namespaces) {
        create(
            client,
            crds,
            new LoadedObject(
                "an object's namespace",
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(namespace)
                    .addToLabels("kubernetes.io/metadata.name", namespace)
                    .endMetadata()
                    .build()));
      }
      for (LoadedObject object : ordered) {
        create(client, crds, object);
      }
    }

    private static void create(
        KubernetesClient client, Map<String, CustomResourceDefinition> crds, LoadedObject loaded) {
      HasMetadata object = loaded.object;
      clearServerFields(object.getMetadata());
      try {
        if (object instanceof GenericKubernetesResource generic) {
          String apiVersion = Objects.requireNonNullElse(generic.getApiVersion(), "");
          String group =
              apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
          CustomResourceDefinition crd = crds.get(group + "|" + generic.getKind());
          if (crd == null) {
            throw new IllegalArgumentException(
                loaded.origin
                    + ": "
                    + generic.getKind()
                    + " ("
                    + apiVersion
                    + ") "
                    + object.getMetadata().getName()
                    + " is of a kind the embedded cluster does not know; add its"
                    + " CustomResourceDefinition to the manifests");
          }
          ResourceDefinitionContext context =
              new ResourceDefinitionContext.Builder()
                  .withGroup(group)
                  .withVersion(apiVersion.substring(apiVersion.indexOf('/') + 1))
                  .withKind(generic.getKind())
                  .withPlural(crd.getSpec().getNames().getPlural())
                  .withNamespaced("Namespaced".equals(crd.getSpec().getScope()))
                  .build();
          String namespace =
              Objects.requireNonNullElse(generic.getMetadata().getNamespace(), "default");
          if (context.isNamespaceScoped()) {
            client
                .genericKubernetesResources(context)
                .inNamespace(namespace)
                .resource(generic)
                .create();
          } else {
            client.genericKubernetesResources(context).resource(generic).create();
          }
        } else {
          client.resource(object).create();
        }
      } catch (KubernetesClientException e) {
        throw new IllegalArgumentException(
            loaded.origin
                + ": cannot create "
                + object.getKind()
                + " "
                + object.getMetadata().getName()
                + " in the embedded cluster: "
                + KubernetesFailures.rootCause(e),
            e);
      }
    }

    /** What the API server sets itself; an exported object carries it and must not on create. */
    private static void clearServerFields(ObjectMeta metadata) {
      metadata.setResourceVersion(null);
      metadata.setUid(null);
      metadata.setCreationTimestamp(null);
      metadata.setGeneration(null);
      metadata.setManagedFields(new ArrayList<>());
      metadata.setSelfLink(null);
      if (metadata.getAnnotations() != null) {
        metadata.getAnnotations().remove("kubectl.kubernetes.io/last-applied-configuration");
      }
    }
  }
}
