package dev.vmonboard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.OnboardingEvent;
import dev.vmonboard.core.OnboardingException;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageResult;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.EmbeddedVm;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshTransport;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Injected faults, end to end: the real pipeline against an embedded cluster that fails requests on
 * demand and embedded VMs that refuse, cut, fill up or run containers that die. For each: the
 * result names what failed (stage, workload, host, cause); a VM that already ran keeps its previous
 * bundle and proxy when delivering an update fails, and gets them back when the update's proxy does
 * not start; and no temporary files are left on the VM.
 */
class FaultInjectionTest extends OnOneCluster {

  private static final String ENTRY =
      "/apis/networking.istio.io/v1/namespaces/vms/workloadentries/";
  private static final String TOKEN = "/api/v1/namespaces/vms/serviceaccounts/vm-sa/token";

  // --- the API server --------------------------------------------------------------------------

  @Test
  void aServerErrorWhileResolvingIsRetried() {
    rig.cluster.failNext("GET", ENTRY + name, 500, 1);

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    assertThat(result.stage(Stage.RESOLVE).orElseThrow().attempts()).isEqualTo(2);
  }

  @Test
  void anUnavailableTokenApiIsRetriedNoSoonerThanItsRetryAfter() {
    rig.cluster.failNext("POST", TOKEN, 503, 1, Duration.ofSeconds(1));

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    StageResult issue = result.stage(Stage.ISSUE_TOKEN).orElseThrow();
    assertThat(issue.attempts()).isEqualTo(2);
    assertThat(issue.duration())
        .as("the retry waited for Retry-After, not the 20 ms backoff")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void aThrottledTokenRequestWaitsForRetryAfter() {
    rig.cluster.failNext("POST", TOKEN, 429, 2, Duration.ofSeconds(1));

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    StageResult issue = result.stage(Stage.ISSUE_TOKEN).orElseThrow();
    assertThat(issue.attempts()).isEqualTo(3);
    assertThat(issue.duration()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void anUnavailableApiWhileReadingTheMeshIsRetriedNoSoonerThanItsRetryAfter() {
    rig.cluster.failNext(
        "GET", "/api/v1/namespaces/istio-system/configmaps/istio", 503, 1, Duration.ofSeconds(1));

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    assertThat(result.stage(Stage.PREPARE).orElseThrow().duration())
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void aServerErrorThatPersistsFailsTheTokenStageAndLeavesTheVmUntouched() {
    rig.cluster.failNext("POST", TOKEN, 500, 3);

    OnboardingResult result = onboard(rig.pipeline());

    OnboardingException failure = failed(result, Stage.ISSUE_TOKEN, 3);
    assertThat(failure.getMessage()).contains(ref.toString(), "500", "serviceaccounts/token");
    assertThat(failure.isTransient()).isTrue();
    assertThat(vm.connectionsAccepted()).isZero();
    assertThat(Files.exists(Rig.configDir(vm))).isFalse();
  }

  @Test
  void aConflictWhileRecordingIsReadAgainAndRetried() {
    rig.cluster.failNext("PUT", ENTRY + name, 409, 1);

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    assertThat(rig.cluster.requestLog())
        .filteredOn(l -> l.equals("PUT " + ENTRY + name))
        .hasSize(2);
    assertThat(rig.readEntry(name).getMetadata().getAnnotations())
        .containsKey(BootstrapRecord.BUNDLE_HASH);
  }

  // --- reaching the VM ----------------------------------------------------------------------

  @Test
  void aRefusedConnectionIsRetriedThenNamedWithTheHostAndPort() {
    rig.entry("gone", Rig.spec("10.1.0.250", "gone"), Rig.refusing(dir));

    OnboardingResult result = rig.pipeline().build().onboard(WorkloadRef.of(Rig.NS, "gone"));
    check(result);

    OnboardingException failure = failed(result, Stage.DELIVER, 3);
    assertThat(failure.getMessage()).contains("vms/gone", "127.0.0.2:1", "Connection refused");
    assertThat(failure.isTransient()).isTrue();
  }

  @Test
  void aKeyTheVmDoesNotAcceptIsNotRetriedAndRunsNothing() {
    SshConnector stranger = rig.connector(keyNobodyAccepts());
    OnboardingPipeline.Builder pipeline =
        rig.pipeline()
            .transport(SshTransport.using(stranger))
            .launcher(ContainerProxyLauncher.builder(stranger).build());

    OnboardingException failure = failed(onboard(pipeline), Stage.DELIVER, 1);

    assertThat(failure.getMessage()).contains(ref.toString(), "accepted none of the keys");
    assertThat(vm.receivedCommands()).isEmpty();
  }

  @Test
  void aChangedHostKeyIsRefusedWithItsFingerprintAndRunsNothing() throws Exception {
    EmbeddedVm other = rig.vm();
    String otherKey = other.knownHostsLine().substring(other.knownHostsLine().indexOf(' '));
    List<String> trusted = new ArrayList<>(Files.readAllLines(rig.knownHosts));
    trusted.remove(vm.knownHostsLine());
    trusted.add("[127.0.0.1]:" + vm.port() + otherKey);
    Files.write(rig.knownHosts, trusted);

    OnboardingException failure = failed(onboard(rig.pipeline()), Stage.DELIVER, 1);

    assertThat(failure.getMessage()).contains(ref.toString(), vm.hostKeyFingerprint());
    assertThat(vm.receivedCommands()).isEmpty();
  }

  @Test
  void aConnectionCutMidTransferKeepsThePreviousBundleAndProxy() throws Exception {
    try (CuttingRelay relay = new CuttingRelay(vm.port())) {
      String hostKey = vm.knownHostsLine().substring(vm.knownHostsLine().indexOf(' '));
      Files.writeString(
          rig.knownHosts,
          "[127.0.0.1]:" + relay.port() + hostKey + "\n",
          java.nio.file.StandardOpenOption.APPEND);
      changeEntry(name, BootstrapAnnotation.SSH_PORT.key(), Integer.toString(relay.port()), null);
      AtomicLong deliveredAt = new AtomicLong();
      OnboardingPipeline.Builder measuring =
          rig.pipeline()
              .listener(
                  event -> {
                    if (event instanceof OnboardingEvent.StageSucceeded done
                        && done.stage() == Stage.DELIVER) {
                      deliveredAt.set(relay.clientBytes());
                    }
                  });
      // The first onboarding, through the relay, shows where the delivery ends in the bytes the
      // client sends; the update is cut three quarters of the way there, past the login.
      Onboarded first = onboardedInto(Rig.configDir(vm), measuring);
      relay.cutAfter(deliveredAt.get() * 3 / 4);
      changeEntry(name, null, null, "v2");

      OnboardingException failure = failed(onboard(rig.pipeline()), Stage.DELIVER, 3);

      assertThat(relay.cuts()).isEqualTo(3);
      assertThat(failure.getMessage()).contains(ref.toString(), "deliver the bundle");
      first.assertKept();
    }
  }

  // --- on the VM -----------------------------------------------------------------------------

  @Test
  void aCommandThatOutlivesItsStageTimeoutIsAbandonedAndNamed() {
    vm.neverReady();
    OnboardingPipeline.Builder pipeline =
        rig.pipeline(Duration.ofSeconds(60)).stageTimeout(Stage.LAUNCH, Duration.ofSeconds(2));

    OnboardingResult result = onboard(pipeline);

    assertThat(result.failedStage()).contains(Stage.LAUNCH);
    assertThat(result.stage(Stage.LAUNCH).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.TIMED_OUT);
    assertThat(result.failure().orElseThrow().getMessage())
        .contains(ref.toString(), "127.0.0.1", "did not finish within 2 s");
    assertThat(Remote.litter(Rig.configDir(vm))).isEmpty();
  }

  @Test
  void aFailingRemoteCommandIsReportedWithItsExitCodeAndStderr() {
    use(rig.vm(EmbeddedVm.HttpClient.NONE));

    OnboardingException failure = failed(onboard(rig.pipeline()), Stage.LAUNCH, 1);

    assertThat(failure.getMessage())
        .contains(ref.toString(), "exit code 33", "neither curl nor wget is installed");
    assertThat(failure.hint()).contains("install curl or wget on the VM");
    assertThat(Remote.litter(Rig.configDir(vm))).isEmpty();
  }

  @Test
  void aReadOnlyConfigDirectoryKeepsThePreviousBundleAndProxy() throws Exception {
    Path mount = vm.root().resolve("mnt");
    try (Mounts disk = Mounts.tmpfs(mount, 1024)) {
      Onboarded first = onboardedInto(mount.resolve("istio-proxy"));
      disk.readOnly();
      changeEntry(name, null, null, "v2");

      OnboardingException failure = failed(onboard(rig.pipeline()), Stage.DELIVER, 1);

      assertThat(failure.getMessage())
          .contains(ref.toString(), "127.0.0.1", mount.toString(), "Read-only file system");
      assertThat(failure.hint()).hasValueSatisfying(h -> assertThat(h).contains("may write"));
      first.assertKept();
    }
  }

  @Test
  void aFullDiskKeepsThePreviousBundleAndProxyAndSaysSo() throws Exception {
    Path mount = vm.root().resolve("mnt");
    try (Mounts disk = Mounts.tmpfs(mount, 256)) {
      Onboarded first = onboardedInto(mount.resolve("istio-proxy"));
      disk.fill();
      changeEntry(name, null, null, "v2");

      // Not retried: a full disk stays full until someone frees space.
      OnboardingException failure = failed(onboard(rig.pipeline()), Stage.DELIVER, 1);

      assertThat(failure.getMessage())
          .contains(ref.toString(), "127.0.0.1", "No space left on device", mount.toString());
      assertThat(failure.hint()).hasValueSatisfying(h -> assertThat(h).contains("free space"));
      first.assertKept();
    }
  }

  @Test
  void aContainerThatExitsAtOnceIsReportedWithItsExitCode() {
    vm.containerExitsAtOnce("istio-proxy");

    OnboardingException failure = failed(onboard(rig.pipeline()), Stage.LAUNCH, 1);

    assertThat(failure.getMessage())
        .contains(ref.toString(), "container istio-proxy is exited", "exit code 1");
    assertThat(Remote.litter(Rig.configDir(vm))).isEmpty();
  }

  @Test
  void aProxyThatNeverGetsReadyFailsAfterTheReadinessTimeout() {
    vm.neverReady();

    OnboardingException failure =
        failed(onboard(rig.pipeline(Duration.ofSeconds(1))), Stage.LAUNCH, 1);

    assertThat(failure.getMessage()).contains(ref.toString(), "did not answer ready within 1 s");
    assertThat(Remote.litter(Rig.configDir(vm))).isEmpty();
  }

  @Test
  void anUpdateWhoseProxyDiesRollsBackToThePreviousBundleAndProxy() throws Exception {
    Onboarded first = onboardedInto(Rig.configDir(vm));
    String recorded =
        rig.readEntry(name).getMetadata().getAnnotations().get(BootstrapRecord.BUNDLE_HASH);
    vm.containerExitsAtOnce("istio-proxy");
    changeEntry(name, null, null, "v2");

    OnboardingResult result = onboard(rig.pipeline());

    OnboardingException failure = failed(result, Stage.LAUNCH, 1);
    assertThat(failure.getMessage())
        .contains(ref.toString(), "container istio-proxy is exited")
        .contains("rolled back: the previous bundle and proxy are back");
    assertThat(result.stage(Stage.ROLLBACK).orElseThrow().outcome())
        .isEqualTo(StageResult.Outcome.SUCCEEDED);
    assertThat(Remote.contents(first.config())).isEqualTo(first.files());
    assertThat(vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
    assertThat(Remote.litter(first.config())).isEmpty();
    assertThat(rig.readEntry(name).getMetadata().getAnnotations())
        .as("the record still names the bundle the VM runs")
        .containsEntry(BootstrapRecord.BUNDLE_HASH, recorded);
  }

  @Test
  void aSuccessfulUpdateLeavesNeitherThePreviousBundleNorTheOldContainer() throws Exception {
    Onboarded first = onboardedInto(Rig.configDir(vm));
    changeEntry(name, null, null, "v2");

    OnboardingResult result = onboard(rig.pipeline());

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    assertThat(Remote.contents(first.config())).isNotEqualTo(first.files());
    assertThat(vm.containers()).containsExactly(Map.entry("istio-proxy", "running"));
    assertThat(Remote.litter(first.config())).isEmpty();
  }

  // --- helpers -------------------------------------------------------------------------------

  private OnboardingResult onboard(OnboardingPipeline.Builder pipeline) {
    return check(pipeline.build().onboard(ref));
  }

  private static OnboardingResult check(OnboardingResult result) {
    Canary.assertAbsent("result", result.toString());
    result.failure().ifPresent(f -> Canary.assertAbsent(f));
    return result;
  }

  private static OnboardingException failed(OnboardingResult result, Stage stage, int attempts) {
    assertThat(result.isSuccess()).as(result.toString()).isFalse();
    assertThat(result.failedStage()).as(result.toString()).contains(stage);
    assertThat(result.stage(stage).orElseThrow().attempts())
        .as(result.toString())
        .isEqualTo(attempts);
    return result.failure().orElseThrow();
  }

  /**
   * Onboards this test's VM with {@code config} as its config directory; returns what it then
   * holds, to compare after a failed update.
   */
  private Onboarded onboardedInto(Path config) throws java.io.IOException {
    return onboardedInto(config, rig.pipeline());
  }

  private Onboarded onboardedInto(Path config, OnboardingPipeline.Builder pipeline)
      throws java.io.IOException {
    if (!config.equals(Rig.configDir(vm))) {
      changeEntry(name, BootstrapAnnotation.PROXY_CONFIG_DIR.key(), config.toString(), null);
    }
    OnboardingResult result = onboard(pipeline);
    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    return new Onboarded(vm, config, Remote.contents(config), Remote.containerRuns(vm));
  }

  /** What a VM held after a successful onboarding. */
  private record Onboarded(EmbeddedVm vm, Path config, Map<String, String> files, long runs) {

    /** The same bundle, the same running container, no temporary directory. */
    void assertKept() {
      assertThat(Remote.contents(config)).as("the previous bundle").isEqualTo(files);
      assertThat(Remote.containerRuns(vm)).as("containers started").isEqualTo(runs);
      assertThat(vm.containers()).containsEntry("istio-proxy", "running");
      // The VM cleans up when it notices a cut, which may be a moment after the client does.
      Awaitility.await("temporary directories removed")
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(Remote.litter(config)).isEmpty());
    }
  }

  /** Sets an annotation (when given) and a {@code version} label (when given) on an entry. */
  @SuppressWarnings("unchecked")
  private void changeEntry(String name, String annotation, String value, String version) {
    GenericKubernetesResource entry = rig.readEntry(name);
    if (annotation != null) {
      Map<String, String> annotations = new LinkedHashMap<>(entry.getMetadata().getAnnotations());
      annotations.put(annotation, value);
      entry.getMetadata().setAnnotations(annotations);
    }
    if (version != null) {
      Map<String, Object> spec = (Map<String, Object>) entry.getAdditionalProperties().get("spec");
      Map<String, Object> labels = new LinkedHashMap<>((Map<String, Object>) spec.get("labels"));
      labels.put("version", version);
      spec.put("labels", labels);
    }
    rig.updateEntry(entry);
  }

  private Path keyNobodyAccepts() {
    Path key = dir.resolve("id_stranger");
    Rig.clientKey(key);
    return key;
  }
}
