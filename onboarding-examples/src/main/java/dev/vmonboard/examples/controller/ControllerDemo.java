package dev.vmonboard.examples.controller;

import dev.vmonboard.controller.SshVmStages;
import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.examples.support.DemoKeys;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.controller.ControllerEnvironment;
import dev.vmonboard.k8s.controller.ControllerEvent;
import dev.vmonboard.k8s.controller.ControllerListener;
import dev.vmonboard.k8s.controller.OnboardingController;
import dev.vmonboard.k8s.controller.VmCredentials;
import dev.vmonboard.ssh.EmbeddedVm;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * The onboarding controller end to end, in one JVM: the embedded Istio cluster, embedded VMs (SSH
 * servers with a stand-in docker), the SSH key and known hosts in a Secret, and the controller as
 * {@link ControllerEnvironment} configures it in a pod. It opts two WorkloadEntries in, waits for
 * their proxies to be ready, shows the status the controller recorded, deletes one entry and shows
 * its VM cleaned before the entry disappears. Run it with
 *
 * <pre>
 * mvn -B -q -pl onboarding-examples -am compile -Dcontroller-demo
 * </pre>
 */
public final class ControllerDemo implements AutoCloseable {

  static final String NAMESPACE = "vms";
  static final String CONTROLLER_NAMESPACE = "vmonboard";

  /** The mock API server logs every request at INFO through java.util.logging: keep it quiet. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private final EmbeddedIstioCluster cluster;
  private final List<EmbeddedVm> vms;
  private final OnboardingController controller;
  private final List<ControllerEvent> events = new CopyOnWriteArrayList<>();

  private ControllerDemo(
      EmbeddedIstioCluster cluster, List<EmbeddedVm> vms, OnboardingController.Builder builder) {
    this.cluster = cluster;
    this.vms = vms;
    this.controller = builder.listener(events::add).build();
  }

  /**
   * Starts the cluster, {@code vmCount} VMs and the controller, plus {@code listener} for its
   * events.
   */
  static ControllerDemo start(int vmCount, ControllerListener listener)
      throws IOException, InterruptedException {
    EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start();
    List<EmbeddedVm> vms = new ArrayList<>();
    try {
      DemoKeys key = DemoKeys.generate();
      StringBuilder knownHosts = new StringBuilder();
      for (int i = 0; i < vmCount; i++) {
        EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start();
        vms.add(vm);
        knownHosts.append(vm.knownHostsLine()).append('\n');
      }
      cluster
          .client()
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName("vm-ssh")
                  .withNamespace(CONTROLLER_NAMESPACE)
                  .endMetadata()
                  .withType("kubernetes.io/ssh-auth")
                  .withStringData(
                      Map.of(
                          VmCredentials.PRIVATE_KEY,
                          new String(key.privateKeyOpenSsh(), StandardCharsets.US_ASCII),
                          VmCredentials.KNOWN_HOSTS,
                          knownHosts.toString()))
                  .build())
          .create();
      cluster
          .client()
          .resource(
              new ServiceAccountBuilder()
                  .withNewMetadata()
                  .withName("vm-sa")
                  .withNamespace(NAMESPACE)
                  .endMetadata()
                  .build())
          .create();
      OnboardingController.Builder builder =
          ControllerEnvironment.configure(
                  cluster.cluster(),
                  Map.of(
                      ControllerEnvironment.POD_NAMESPACE, CONTROLLER_NAMESPACE,
                      ControllerEnvironment.POD_NAME, "controller-demo-0",
                      ControllerEnvironment.WATCH_NAMESPACES, NAMESPACE))
              .vmStages(new SshVmStages(Duration.ofSeconds(20), Duration.ofMillis(20)))
              .listener(listener);
      ControllerDemo demo = new ControllerDemo(cluster, vms, builder);
      demo.controller.start();
      // The embedded API server does not replay what happened between the controller's first
      // list and its watch: entries are created once it watches.
      demo.waitFor("the controller to watch", demo.controller::isWatching);
      return demo;
    } catch (IOException | InterruptedException | RuntimeException e) {
      vms.forEach(EmbeddedVm::close);
      cluster.close();
      throw e;
    }
  }

  /** Runs the demo. */
  public static void main(String[] args) throws Exception {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    try (ControllerDemo demo = start(2, event -> {})) {
      System.out.println("controller " + demo.controller.identity() + " started");
      demo.waitFor("the controller to win its Lease", demo.controller::isActive);
      for (int i = 0; i < demo.vms.size(); i++) {
        demo.createEntry("backend-" + i, i);
        System.out.println("created WorkloadEntry vms/backend-" + i + " (opted in)");
      }
      for (int i = 0; i < demo.vms.size(); i++) {
        String name = "backend-" + i;
        demo.waitFor(
            name + " onboarded",
            () ->
                demo.onboarded(name)
                    && demo.status(name).containsKey(OnboardingController.LAST_RESULT));
        System.out.println(
            name + ": proxy " + demo.vms.get(i).containers() + ", status " + demo.status(name));
      }
      demo.deleteEntry("backend-0");
      System.out.println("deleted WorkloadEntry vms/backend-0");
      demo.waitFor("backend-0 gone", () -> demo.entry("backend-0") == null);
      System.out.println(
          "backend-0: entry gone after its VM was cleaned: containers "
              + demo.vms.get(0).containers()
              + ", config dir present: "
              + java.nio.file.Files.exists(demo.configDir(0)));
    }
  }

  /** Creates WorkloadEntry vms/{@code name} for VM {@code vm}, opted in to the controller. */
  void createEntry(String name, int vm) throws IOException {
    EmbeddedVm target = vms.get(vm);
    GenericKubernetesResource entry = new GenericKubernetesResource();
    entry.setApiVersion("networking.istio.io/v1");
    entry.setKind("WorkloadEntry");
    entry.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(NAMESPACE)
            .withAnnotations(
                Map.of(
                    OnboardingController.MANAGED_ANNOTATION,
                    "true",
                    BootstrapAnnotation.SSH_PORT.key(),
                    Integer.toString(target.port()),
                    BootstrapAnnotation.PROXY_CONFIG_DIR.key(),
                    configDir(vm).toString()))
            .build());
    entry.setAdditionalProperty(
        "spec",
        Map.of("address", target.host(), "serviceAccount", "vm-sa", "labels", Map.of("app", name)));
    kubernetes().workloadEntries().inNamespace(NAMESPACE).resource(entry).create();
  }

  void deleteEntry(String name) {
    kubernetes().workloadEntries().inNamespace(NAMESPACE).withName(name).delete();
  }

  GenericKubernetesResource entry(String name) {
    return kubernetes().workloadEntries().inNamespace(NAMESPACE).withName(name).get();
  }

  /** The controller's status annotations on the entry (and the pipeline's record). */
  Map<String, String> status(String name) {
    GenericKubernetesResource entry = entry(name);
    Map<String, String> status = new TreeMap<>();
    if (entry != null && entry.getMetadata().getAnnotations() != null) {
      entry
          .getMetadata()
          .getAnnotations()
          .forEach(
              (key, value) -> {
                if (key.startsWith("vmonboard.dev/") && !key.equals("vmonboard.dev/managed")) {
                  status.put(key, value);
                }
              });
    }
    return status;
  }

  /** Whether a successful onboarding of {@code name} with a ready proxy was reported. */
  boolean onboarded(String name) {
    WorkloadRef ref = WorkloadRef.of(NAMESPACE, name);
    return events.stream()
        .anyMatch(
            event ->
                event instanceof ControllerEvent.Reconciled r
                    && r.workload().equals(ref)
                    && r.result().operation() == OnboardingResult.Operation.ONBOARD
                    && r.result().outcome() == OnboardingResult.Outcome.SUCCEEDED
                    && r.result().proxyStatus().map(s -> s.isReady()).orElse(false));
  }

  java.nio.file.Path configDir(int vm) {
    return vms.get(vm).root().resolve("etc/istio-proxy");
  }

  List<EmbeddedVm> vms() {
    return vms;
  }

  OnboardingController controller() {
    return controller;
  }

  List<ControllerEvent> events() {
    return events;
  }

  private KubernetesCluster kubernetes() {
    return cluster.cluster();
  }

  void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  @Override
  public void close() {
    controller.close();
    vms.forEach(EmbeddedVm::close);
    cluster.close();
  }
}
