package dev.vmonboard.k8s;

import dev.vmonboard.core.StageException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes cluster the Kubernetes stages talk to, and how to reach it.
 *
 * <p>Pick the cluster the way {@code kubectl} users do: the current context of the default
 * kubeconfig ({@code KUBECONFIG}, else {@code ~/.kube/config}), a named context, a given kubeconfig
 * file, the pod's own service account when running inside the cluster, or a fabric8 {@link
 * KubernetesClient} the caller already has. Clients built here use the JDK HTTP client and leave
 * retries to the onboarding pipeline.
 *
 * <p>Nothing is sent until the first call: {@link #checkConnectivity()} (which every stage runs
 * before its first request) asks the API server for its version once and, when that fails, says
 * which cluster and context it tried and what to check. Thread-safe. Closing it closes the client
 * it built, never a client the caller passed in.
 */
public final class KubernetesCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesCluster.class);

  static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  private final KubernetesClient client;
  private final String description;
  private final boolean owned;
  private volatile boolean reachable;
  private volatile IstioApi istio;

  private KubernetesCluster(KubernetesClient client, String description, boolean owned) {
    this.client = client;
    this.description = description;
    this.owned = owned;
  }

  /**
   * The current context of the default kubeconfig: the files named by {@code KUBECONFIG}, else
   * {@code ~/.kube/config}; inside a pod without a kubeconfig, the pod's service account.
   */
  public static KubernetesCluster fromDefaultKubeconfig() {
    return fromConfig(Config.autoConfigure(null), "the current context");
  }

  /**
   * The context named {@code context} of the default kubeconfig ({@code KUBECONFIG} or ~/.kube).
   */
  public static KubernetesCluster fromContext(String context) {
    Objects.requireNonNull(context, "context");
    Config config = Config.autoConfigure(context);
    requireContext(config, context, "the default kubeconfig " + Config.getKubeconfigFilenames());
    return fromConfig(config, "context '" + context + "'");
  }

  /** The current context of the kubeconfig file {@code kubeconfig}. */
  public static KubernetesCluster fromKubeconfig(Path kubeconfig) {
    return fromKubeconfig(kubeconfig, null);
  }

  /**
   * The context {@code context} of the kubeconfig file {@code kubeconfig}; null means the file's
   * current context.
   *
   * @throws IllegalArgumentException when the file cannot be read or does not hold the context
   */
  public static KubernetesCluster fromKubeconfig(Path kubeconfig, String context) {
    File file = kubeconfig.toFile();
    if (!file.isFile()) {
      throw new IllegalArgumentException(
          "kubeconfig " + kubeconfig + " does not exist or is not a file");
    }
    Config config;
    try {
      config = Config.fromKubeconfig(context, file);
    } catch (KubernetesClientException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot use kubeconfig "
              + kubeconfig
              + (context == null ? "" : " with context '" + context + "'")
              + ": "
              + e.getMessage(),
          e);
    }
    if (context != null) {
      requireContext(config, context, "kubeconfig " + kubeconfig);
    }
    return fromConfig(
        config, context == null ? "the current context" : "context '" + context + "'");
  }

  /** fabric8 silently falls back to other settings for an unknown context: refuse it instead. */
  private static void requireContext(Config config, String context, String where) {
    boolean known =
        config.getContexts() != null
            && config.getContexts().stream().anyMatch(c -> context.equals(c.getName()));
    if (!known) {
      throw new IllegalArgumentException(
          where
              + " has no context '"
              + context
              + "'; its contexts: "
              + (config.getContexts() == null
                  ? "none"
                  : config.getContexts().stream().map(c -> c.getName()).sorted().toList()));
    }
  }

  /**
   * The cluster this process runs in, as the pod's service account ({@code KUBERNETES_SERVICE_HOST}
   * and the token mounted under {@value #SERVICE_ACCOUNT_DIR}). The token is read again for every
   * request, so a rotated token keeps working.
   *
   * @throws IllegalStateException when this process does not run in a pod
   */
  public static KubernetesCluster inCluster() {
    return inCluster(System.getenv(), Path.of(SERVICE_ACCOUNT_DIR));
  }

  static KubernetesCluster inCluster(Map<String, String> env, Path accountDir) {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    Path token = accountDir.resolve("token");
    if (host == null || host.isBlank() || !Files.isReadable(token)) {
      throw new IllegalStateException(
          "not running inside a Kubernetes pod: KUBERNETES_SERVICE_HOST is "
              + (host == null || host.isBlank() ? "not set" : "set")
              + " and "
              + token
              + (Files.isReadable(token) ? " is readable" : " is missing")
              + "; use fromDefaultKubeconfig() or fromKubeconfig(...) outside the cluster");
    }
    String server = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    ConfigBuilder config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(server)
            .withOauthTokenProvider(() -> readToken(token));
    Path ca = accountDir.resolve("ca.crt");
    if (Files.isReadable(ca)) {
      config.withCaCertFile(ca.toString());
    }
    Path namespace = accountDir.resolve("namespace");
    if (Files.isReadable(namespace)) {
      config.withNamespace(readToken(namespace));
    }
    return fromConfig(config.build(), "the pod's service account");
  }

  /**
   * A cluster reached through {@code client}, which the caller keeps: {@link #close()} leaves it
   * open.
   */
  public static KubernetesCluster of(KubernetesClient client) {
    Objects.requireNonNull(client, "client");
    return new KubernetesCluster(client, "the cluster at " + client.getMasterUrl(), false);
  }

  static KubernetesCluster of(KubernetesClient client, String description) {
    return new KubernetesCluster(client, description, false);
  }

  private static KubernetesCluster fromConfig(Config config, String contextDescription) {
    String context =
        config.getCurrentContext() != null
            ? "context '" + config.getCurrentContext().getName() + "'"
            : contextDescription;
    File file = config.getFile();
    String description =
        context
            + " (API server "
            + config.getMasterUrl()
            + (file != null ? ", kubeconfig " + file : "")
            + ")";
    // The onboarding pipeline retries transient failures itself; fabric8's own retries would
    // multiply its attempts and hide an unreachable cluster for minutes.
    Config tuned = new ConfigBuilder(config).withRequestRetryBackoffLimit(0).build();
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(tuned)
            .withHttpClientFactory(new JdkHttpClientFactory())
            .build();
    return new KubernetesCluster(client, description, true);
  }

  private static String readToken(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The fabric8 client; the stages use it, host applications may too. */
  public KubernetesClient client() {
    return client;
  }

  /**
   * Istio's {@code WorkloadEntry} objects on this cluster as fabric8 generic resources, at the
   * newest {@code networking.istio.io} version the cluster serves (asked once): for host
   * applications that watch or annotate entries themselves, such as the onboarding controller.
   *
   * @throws StageException when the cluster cannot be reached or does not serve WorkloadEntries
   */
  public MixedOperation<
          GenericKubernetesResource,
          GenericKubernetesResourceList,
          Resource<GenericKubernetesResource>>
      workloadEntries() {
    IstioApi api = istio;
    if (api == null) {
      api = new IstioApi(this);
      istio = api;
    }
    return api.resources(IstioKind.WORKLOAD_ENTRY);
  }

  /** Which cluster this is, for messages: context, API server and kubeconfig file. */
  public String description() {
    return description;
  }

  /**
   * Asks the API server for its version, once: later calls return at once after a success.
   *
   * @throws StageException naming the cluster and context and what to check: transient when the API
   *     server cannot be reached, permanent when it refuses the credentials
   */
  public void checkConnectivity() {
    if (reachable) {
      return;
    }
    try {
      client.getKubernetesVersion();
      reachable = true;
      LOG.debug("reached {}", description);
    } catch (KubernetesClientException e) {
      throw KubernetesFailures.unreachable(this, e);
    }
  }

  /**
   * Runs one API call after the connectivity check, turning fabric8 failures into {@link
   * StageException}s that name the verb, resource and object.
   */
  <T> T call(
      String verb,
      String group,
      String resource,
      String namespace,
      String name,
      Supplier<T> request) {
    checkConnectivity();
    try {
      return request.get();
    } catch (KubernetesClientException e) {
      throw KubernetesFailures.failed(this, e, verb, group, resource, namespace, name);
    }
  }

  @Override
  public void close() {
    if (owned) {
      client.close();
    }
  }

  @Override
  public String toString() {
    return "KubernetesCluster[" + description + "]";
  }
}
