package dev.vmonboard.examples.controller;

import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.internal.Names;
import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.controller.LeaderElection;
import dev.vmonboard.k8s.controller.OnboardingController;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The onboarding controller as it runs in a pod (the container of {@code
 * dev/vmonboard/k8s/controller/deployment.yaml}): the pod's service account, SSH to the VMs with
 * the credentials Secret, the container bundle style, leader election on a Lease in the pod's
 * namespace. Runs until the JVM is stopped (SIGTERM releases the Lease).
 *
 * <p>Environment: {@value #POD_NAMESPACE} (required: where the Lease and the Secret live), {@value
 * #POD_NAME} (the replica's identity), {@value #WATCH_NAMESPACES} (comma-separated; empty: all),
 * {@value #CREDENTIALS_SECRET} (default {@code vm-ssh}), {@value #LEASE_NAME} (default {@code
 * vmonboard-controller}), {@value #CONCURRENCY} (default 8).
 *
 * <p>The image: this module's jar and its runtime dependencies in {@code /app/lib}, e.g. {@code mvn
 * -B -pl onboarding-examples -am package dependency:copy-dependencies -DincludeScope=runtime
 * -DoutputDirectory=target/lib} then a {@code Dockerfile} that copies {@code target/*.jar} and
 * {@code target/lib} onto a Java 17 base image.
 */
public final class ControllerMain {

  static final String POD_NAMESPACE = "POD_NAMESPACE";
  static final String POD_NAME = "POD_NAME";
  static final String WATCH_NAMESPACES = "WATCH_NAMESPACES";
  static final String CREDENTIALS_SECRET = "CREDENTIALS_SECRET";
  static final String LEASE_NAME = "LEASE_NAME";
  static final String CONCURRENCY = "CONCURRENCY";

  private ControllerMain() {}

  /** Runs the controller in the cluster this pod belongs to. */
  public static void main(String[] args) throws InterruptedException {
    OnboardingController controller =
        configure(KubernetesCluster.inCluster(), System.getenv()).build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  controller.close();
                  stopped.countDown();
                }));
    controller.start();
    stopped.await();
  }

  /** The controller the environment {@code env} describes, on {@code cluster}. */
  static OnboardingController.Builder configure(
      KubernetesCluster cluster, Map<String, String> env) {
    String namespace = env.get(POD_NAMESPACE);
    if (namespace == null || namespace.isBlank()) {
      throw new IllegalStateException(
          POD_NAMESPACE + " is not set: give it the pod's namespace (fieldRef metadata.namespace)");
    }
    LeaderElection election =
        LeaderElection.lease(namespace, env.getOrDefault(LEASE_NAME, "vmonboard-controller"));
    String pod = env.get(POD_NAME);
    if (pod != null && !pod.isBlank()) {
      election = election.withIdentity(pod);
    }
    return OnboardingController.builder()
        .cluster(cluster)
        .bundleFactory(ContainerBundleFactory.create())
        .credentialsSecret(namespace, env.getOrDefault(CREDENTIALS_SECRET, "vm-ssh"))
        .vmStages(new SshVmStages(Duration.ofMinutes(2), Duration.ofMillis(500)))
        .namespaces(
            Arrays.stream(env.getOrDefault(WATCH_NAMESPACES, "").split(","))
                .map(String::strip)
                .filter(name -> !name.isEmpty())
                .toArray(String[]::new))
        .concurrency(concurrency(env.getOrDefault(CONCURRENCY, "8")))
        .leaderElection(election);
  }

  /** {@value #CONCURRENCY}: ASCII digits only, nothing around them (the SDK's one rule). */
  static int concurrency(String text) {
    return Names.parseNumber(text)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    CONCURRENCY
                        + " '"
                        + Names.printable(text)
                        + "' is not a whole number written in ASCII digits"));
  }
}
