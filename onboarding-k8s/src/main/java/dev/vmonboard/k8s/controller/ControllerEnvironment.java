package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.k8s.KubernetesCluster;
import java.util.Arrays;
import java.util.Map;

/**
 * The controller's settings as a pod gets them: environment variables set by the Deployment of
 * {@code dev/vmonboard/k8s/controller/deployment.yaml}. The container bundle style, sharding on
 * Leases in the pod's namespace, SSH credentials from a Secret there.
 *
 * <p>Variables: {@value #POD_NAMESPACE} (required: where the Lease and the Secret live), {@value
 * #POD_NAME} (the replica's identity), {@value #WATCH_NAMESPACES} (comma-separated; empty: all),
 * {@value #CREDENTIALS_SECRET} (default {@code vm-ssh}), {@value #LEASE_NAME} (default {@code
 * vmonboard-controller}), {@value #CONCURRENCY} (default 8), {@value #SHARDS} (default 16).
 */
public final class ControllerEnvironment {

  /** The pod's namespace (fieldRef {@code metadata.namespace}): the Lease and Secret live there. */
  public static final String POD_NAMESPACE = "POD_NAMESPACE";

  /** The replica's identity in the Lease (fieldRef {@code metadata.name}). */
  public static final String POD_NAME = "POD_NAME";

  /** Comma-separated namespaces whose WorkloadEntries are managed; empty or unset: all. */
  public static final String WATCH_NAMESPACES = "WATCH_NAMESPACES";

  /** The Secret with the VMs' SSH credentials, in the pod's namespace. */
  public static final String CREDENTIALS_SECRET = "CREDENTIALS_SECRET";

  /** The prefix of the shard and membership Leases, in the pod's namespace. */
  public static final String LEASE_NAME = "LEASE_NAME";

  /**
   * How many shards the WorkloadEntries are split into (default 16); every replica must use the
   * same count.
   */
  public static final String SHARDS = "SHARDS";

  /** How many WorkloadEntries are reconciled at once. */
  public static final String CONCURRENCY = "CONCURRENCY";

  private ControllerEnvironment() {}

  /** A number of the environment: ASCII digits only, nothing around them (the SDK's one rule). */
  static int number(String variable, String text) {
    return Names.parseNumber(text)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    variable
                        + " '"
                        + Names.printable(text)
                        + "' is not a whole number written in ASCII digits"));
  }

  /**
   * A builder for the controller that {@code env} describes, on {@code cluster}; the caller adds
   * the VM stages ({@link OnboardingController.Builder#vmStages}).
   *
   * @throws IllegalStateException naming the variable that is missing or wrong
   */
  public static OnboardingController.Builder configure(
      KubernetesCluster cluster, Map<String, String> env) {
    String namespace = env.get(POD_NAMESPACE);
    if (namespace == null || namespace.isBlank()) {
      throw new IllegalStateException(
          POD_NAMESPACE + " is not set: give it the pod's namespace (fieldRef metadata.namespace)");
    }
    Sharding sharding =
        Sharding.leases(namespace, env.getOrDefault(LEASE_NAME, "vmonboard-controller"));
    String pod = env.get(POD_NAME);
    if (pod != null && !pod.isBlank()) {
      sharding = sharding.withIdentity(pod);
    }
    String shards = env.get(SHARDS);
    if (shards != null) {
      sharding = sharding.withShards(number(SHARDS, shards));
    }
    int workers = number(CONCURRENCY, env.getOrDefault(CONCURRENCY, "8"));
    return OnboardingController.builder()
        .cluster(cluster)
        .bundleFactory(ContainerBundleFactory.create())
        .credentialsSecret(namespace, env.getOrDefault(CREDENTIALS_SECRET, "vm-ssh"))
        .namespaces(
            Arrays.stream(env.getOrDefault(WATCH_NAMESPACES, "").split(","))
                .map(String::strip)
                .filter(name -> !name.isEmpty())
                .toArray(String[]::new))
        .concurrency(workers)
        .sharding(sharding);
  }
}
