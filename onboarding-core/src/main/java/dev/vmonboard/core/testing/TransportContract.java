package dev.vmonboard.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Transport} must have, as JUnit tests: extend this class, say how to
 * make a fresh target and how to read back what it holds, and the suite runs against your
 * transport. The SDK runs it against its in-memory, local-directory, archive and SSH transports.
 */
public abstract class TransportContract {

  /** A file as the target holds it. */
  public record DeliveredFile(int mode, byte[] content) {
    /** The content as UTF-8 text. */
    public String text() {
      return new String(content, StandardCharsets.UTF_8);
    }
  }

  private final List<StageContext.Standalone> contexts = new ArrayList<>();

  /** The transport under test. */
  protected abstract Transport transport();

  /** A target no other test of this run uses (e.g. a fresh directory). */
  protected abstract Target newTarget();

  /**
   * What {@code target} holds now: bundle-relative path to file; empty when there is no bundle at
   * all.
   */
  protected abstract Optional<Map<String, DeliveredFile>> readBack(Target target);

  /**
   * Whether the transport keeps the bundle a delivery replaced, for {@link
   * Transport#restorePrevious}. The default says no: the suite then checks that restoring finds
   * nothing and changes nothing.
   */
  protected boolean keepsPrevious() {
    return false;
  }

  /** The workload of the bundles the suite delivers. */
  protected WorkloadRef workload() {
    return WorkloadRef.of("contract", "vm-1");
  }

  /** A context for one stage call; closed after each test. */
  protected StageContext context(Stage stage) {
    StageContext.Standalone context =
        StageContext.standalone(workload(), stage, Duration.ofSeconds(60));
    contexts.add(context);
    return context;
  }

  @AfterEach
  void closeContexts() {
    contexts.forEach(StageContext.Standalone::close);
    contexts.clear();
  }

  /** A bundle with an environment file, a certificate, a nested file and the token. */
  protected Bundle bundle(String version) {
    return Bundle.builder()
        .workload(workload())
        .addFiles(BundleFile.of("sidecar.env", 0644, bytes("VERSION=" + version + "\n")))
        .addFiles(BundleFile.of("istio-ca.pem", 0644, bytes("-----CERT " + version + "-----\n")))
        .addFiles(BundleFile.of("extra/" + version + ".txt", 0640, bytes(version)))
        .tokenPath("istio-token")
        .launch(ContainerLaunch.builder().containerName("istio-proxy").image("proxyv2").build())
        .build()
        .withToken(
            BootstrapToken.of(
                Canary.SECRET + "-" + version, "istio-ca", Instant.now().plusSeconds(3600)));
  }

  @Test
  void deliversEveryFileWithItsModeAndContent() {
    Target target = newTarget();
    Bundle bundle = bundle("v1");
    transport().deliver(bundle, target, context(Stage.DELIVER));
    Map<String, DeliveredFile> files = readBack(target).orElseThrow();
    assertThat(files.keySet())
        .containsExactlyInAnyOrderElementsOf(
            bundle.files().stream().map(BundleFile::path).toList());
    for (BundleFile file : bundle.files()) {
      DeliveredFile delivered = files.get(file.path());
      assertThat(delivered.content()).as(file.path()).isEqualTo(file.content());
      assertThat(delivered.mode()).as("mode of " + file.path()).isEqualTo(file.mode());
    }
  }

  @Test
  void writesTheTokenOwnerOnly() {
    Target target = newTarget();
    transport().deliver(bundle("v1"), target, context(Stage.DELIVER));
    DeliveredFile token = readBack(target).orElseThrow().get("istio-token");
    assertThat(token.mode() & 0077).as("group/other bits of the token").isZero();
    assertThat(token.text()).startsWith(Canary.SECRET);
  }

  @Test
  void redeliveryReplacesThePreviousBundleWhole() {
    Target target = newTarget();
    transport().deliver(bundle("v1"), target, context(Stage.DELIVER));
    transport().deliver(bundle("v2"), target, context(Stage.DELIVER));
    Map<String, DeliveredFile> files = readBack(target).orElseThrow();
    assertThat(files).containsKey("extra/v2.txt").doesNotContainKey("extra/v1.txt");
    assertThat(files.get("sidecar.env").text()).isEqualTo("VERSION=v2\n");
    assertThat(files.get("istio-token").text()).endsWith("-v2");
  }

  @Test
  void removeDeletesTheBundle() {
    Target target = newTarget();
    transport().deliver(bundle("v1"), target, context(Stage.DELIVER));
    transport().remove(target, context(Stage.REMOVE_BUNDLE));
    assertThat(readBack(target)).isEmpty();
  }

  @Test
  void removingWhatIsNotThereIsFine() {
    Target target = newTarget();
    transport().remove(target, context(Stage.REMOVE_BUNDLE));
    transport().remove(target, context(Stage.REMOVE_BUNDLE));
    assertThat(readBack(target)).isEmpty();
  }

  @Test
  void aFirstDeliveryHasNothingToRestore() {
    Target target = deliveredInTurn("v1");
    Map<String, DeliveredFile> before = readBack(target).orElseThrow();

    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK))).isFalse();

    assertThat(texts(readBack(target).orElseThrow())).isEqualTo(texts(before));
  }

  @Test
  void restoringPutsBackTheReplacedBundleWholeOnce() {
    Bundle v1 = bundle("v1");
    Target target = deliveredInTurn("v1", "v2");

    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK)))
        .as("restored")
        .isEqualTo(keepsPrevious());
    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK)))
        .as("restored a second time")
        .isFalse();

    Map<String, DeliveredFile> files = readBack(target).orElseThrow();
    if (keepsPrevious()) {
      assertThat(files.keySet())
          .containsExactlyInAnyOrderElementsOf(v1.files().stream().map(BundleFile::path).toList());
      for (BundleFile file : v1.files()) {
        assertThat(files.get(file.path()).content()).as(file.path()).isEqualTo(file.content());
        assertThat(files.get(file.path()).mode())
            .as("mode of " + file.path())
            .isEqualTo(file.mode());
      }
    } else {
      assertThat(versionAt(target)).isEqualTo("VERSION=v2\n");
    }
  }

  @Test
  void discardingDropsTheKeptBundleAndKeepsTheNewOne() {
    Target target = deliveredInTurn("v1", "v2");

    transport().discardPrevious(target, context(Stage.LAUNCH));
    transport().discardPrevious(target, context(Stage.LAUNCH));

    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK))).isFalse();
    assertThat(versionAt(target)).isEqualTo("VERSION=v2\n");
  }

  @Test
  void aNewDeliveryKeepsOnlyTheBundleItReplaced() {
    Target target = deliveredInTurn("v1", "v2", "v3");

    boolean restored = transport().restorePrevious(target, context(Stage.ROLLBACK));

    assertThat(restored).isEqualTo(keepsPrevious());
    assertThat(versionAt(target)).isEqualTo(restored ? "VERSION=v2\n" : "VERSION=v3\n");
    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK))).isFalse();
  }

  @Test
  void removeAlsoDropsTheKeptBundle() {
    Target target = deliveredInTurn("v1", "v2");

    transport().remove(target, context(Stage.REMOVE_BUNDLE));

    assertThat(transport().restorePrevious(target, context(Stage.ROLLBACK))).isFalse();
    assertThat(readBack(target)).isEmpty();
  }

  @Test
  void describesDeliveryWithoutTheToken() {
    Target target = newTarget();
    Bundle bundle = bundle("v1");
    List<String> plan = transport().describeDelivery(bundle, target);
    assertThat(plan).isNotEmpty();
    Canary.assertAbsent("describeDelivery", plan);
    assertThat(readBack(target)).as("describing must not deliver").isEmpty();
  }

  /** A new target to which the bundles of {@code versions} were delivered, in that order. */
  private Target deliveredInTurn(String... versions) {
    Target target = newTarget();
    for (String version : versions) {
      transport().deliver(bundle(version), target, context(Stage.DELIVER));
    }
    return target;
  }

  /** The version of the bundle {@code target} holds. */
  private String versionAt(Target target) {
    return readBack(target).orElseThrow().get("sidecar.env").text();
  }

  private static Map<String, String> texts(Map<String, DeliveredFile> files) {
    Map<String, String> texts = new java.util.TreeMap<>();
    files.forEach(
        (path, file) -> texts.put(path, Integer.toOctalString(file.mode()) + " " + file.text()));
    return texts;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
