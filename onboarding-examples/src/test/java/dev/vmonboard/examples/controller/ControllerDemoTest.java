package dev.vmonboard.examples.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.k8s.controller.ControllerEnvironment;
import dev.vmonboard.k8s.controller.ControllerEvent;
import dev.vmonboard.k8s.controller.OnboardingController;
import dev.vmonboard.ssh.EmbeddedVm;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The controller example end to end: embedded cluster, embedded VMs over real SSH, credentials from
 * a Secret, the controller as the Deployment configures it.
 */
class ControllerDemoTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void onboardsOptedInEntriesOnEmbeddedVmsAndCleansADeletedOneBeforeItGoes() throws Exception {
    try (ControllerDemo demo = ControllerDemo.start(2, event -> {})) {
      await().atMost(WAIT).until(demo.controller()::isActive);
      demo.createEntry("backend-0", 0);
      demo.createEntry("backend-1", 1);

      for (int i = 0; i < 2; i++) {
        String name = "backend-" + i;
        EmbeddedVm vm = demo.vms().get(i);
        await().atMost(WAIT).until(() -> demo.onboarded(name));
        assertThat(vm.containers()).containsEntry("istio-proxy", "running");
        assertThat(demo.configDir(i).resolve(ContainerBundleFactory.TOKEN)).exists();
        await()
            .atMost(WAIT)
            .until(
                () -> demo.status(name),
                s ->
                    "onboard succeeded".equals(s.get(OnboardingController.LAST_RESULT))
                        && s.containsKey(BootstrapRecord.TOKEN_EXPIRES_AT));
        String token = Files.readString(demo.configDir(i).resolve(ContainerBundleFactory.TOKEN));
        assertThat(String.valueOf(demo.entry(name))).doesNotContain(token);
        assertThat(vm.receivedCommands()).noneMatch(command -> command.contains(token));
        assertThat(String.valueOf(demo.events())).doesNotContain(token);
      }

      demo.deleteEntry("backend-0");

      await().atMost(WAIT).until(() -> demo.entry("backend-0") == null);
      assertThat(demo.vms().get(0).containers()).isEmpty();
      assertThat(demo.configDir(0)).doesNotExist();
      assertThat(demo.vms().get(1).containers()).containsEntry("istio-proxy", "running");
      // The removal is reported after the write that lets the entry go.
      await()
          .atMost(WAIT)
          .until(
              () ->
                  demo.events().stream()
                      .anyMatch(ControllerEvent.FinalizerRemoved.class::isInstance));
      List<ControllerEvent> events = demo.events();
      int offboarded = indexOf(events, OnboardingResult.Operation.OFFBOARD);
      int released =
          events.indexOf(
              events.stream()
                  .filter(ControllerEvent.FinalizerRemoved.class::isInstance)
                  .findFirst()
                  .orElseThrow());
      assertThat(offboarded).isNotNegative().isLessThan(released);
    }
  }

  @Test
  void theDeploymentSetsWhatTheControllerReads() throws Exception {
    List<HasMetadata> objects;
    try (InputStream yaml =
        getClass()
            .getClassLoader()
            .getResourceAsStream(OnboardingController.MANIFESTS + "deployment.yaml")) {
      objects = new KubernetesSerialization().unmarshal(yaml);
    }
    Deployment deployment =
        objects.stream()
            .filter(Deployment.class::isInstance)
            .map(Deployment.class::cast)
            .findFirst()
            .orElseThrow();
    var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getCommand()).as("the image's entry point").isNullOrEmpty();
    assertThat(container.getEnv())
        .extracting(EnvVar::getName)
        .contains(
            ControllerEnvironment.POD_NAMESPACE,
            ControllerEnvironment.POD_NAME,
            ControllerEnvironment.WATCH_NAMESPACES,
            ControllerEnvironment.CREDENTIALS_SECRET,
            ControllerEnvironment.LEASE_NAME,
            ControllerEnvironment.CONCURRENCY);
  }

  private static int indexOf(List<ControllerEvent> events, OnboardingResult.Operation operation) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i) instanceof ControllerEvent.Reconciled r
          && r.result().operation() == operation
          && r.result().isSuccess()) {
        return i;
      }
    }
    return -1;
  }
}
