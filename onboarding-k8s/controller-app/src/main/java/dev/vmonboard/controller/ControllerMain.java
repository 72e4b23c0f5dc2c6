package dev.vmonboard.controller;

import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.controller.ControllerEnvironment;
import dev.vmonboard.k8s.controller.OnboardingController;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The onboarding controller as it runs in a pod (the entry point of the {@code
 * vmonboard-controller} image and of the distribution's {@code bin/vmonboard-controller}): settings
 * from the environment ({@link ControllerEnvironment}), SSH to the VMs with the credentials Secret
 * ({@link SshVmStages}), health endpoints on {@value #HEALTH_PORT} (default {@value
 * #DEFAULT_HEALTH_PORT}; {@code 0} turns them off). Runs until the JVM is stopped (SIGTERM releases
 * the Lease).
 *
 * <p>In a pod it talks to the API server as the pod's service account; elsewhere (the
 * distribution's launcher) through the default kubeconfig.
 */
public final class ControllerMain {

  /** The port of the health endpoints ({@code /livez}, {@code /readyz}). */
  public static final String HEALTH_PORT = "HEALTH_PORT";

  static final int DEFAULT_HEALTH_PORT = 8081;

  private ControllerMain() {}

  /** Runs the controller until the JVM is stopped. */
  public static void main(String[] args) throws InterruptedException, IOException {
    if (args.length > 0) {
      System.err.println(
          "vmonboard-controller takes no arguments; it reads its settings from the environment: "
              + String.join(
                  ", ",
                  ControllerEnvironment.POD_NAMESPACE,
                  ControllerEnvironment.POD_NAME,
                  ControllerEnvironment.WATCH_NAMESPACES,
                  ControllerEnvironment.CREDENTIALS_SECRET,
                  ControllerEnvironment.LEASE_NAME,
                  ControllerEnvironment.CONCURRENCY,
                  HEALTH_PORT));
      System.exit(2);
    }
    Map<String, String> env = System.getenv();
    KubernetesCluster cluster =
        env.containsKey("KUBERNETES_SERVICE_HOST")
            ? KubernetesCluster.inCluster()
            : KubernetesCluster.fromDefaultKubeconfig();
    OnboardingController controller =
        ControllerEnvironment.configure(cluster, env)
            .vmStages(new SshVmStages(Duration.ofMinutes(2), Duration.ofMillis(500)))
            .build();
    int port = healthPort(env);
    HealthEndpoints health =
        port == 0 ? null : HealthEndpoints.start(port, controller::isAlive, controller::isReady);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  controller.close();
                  if (health != null) {
                    health.close();
                  }
                  cluster.close();
                  stopped.countDown();
                }));
    controller.start();
    stopped.await();
  }

  static int healthPort(Map<String, String> env) {
    String value = env.getOrDefault(HEALTH_PORT, String.valueOf(DEFAULT_HEALTH_PORT)).strip();
    try {
      int port = Integer.parseInt(value);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalStateException(
        HEALTH_PORT + " must be a port (1-65535, or 0 for none), not '" + value + "'");
  }
}
