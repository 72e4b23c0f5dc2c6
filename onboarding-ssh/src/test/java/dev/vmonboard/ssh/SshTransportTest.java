package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TransportContract.DeliveredFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Modes, atomic replacement and faults of SshTransport against an embedded VM. */
class SshTransportTest {

  @TempDir static Path dir;
  static TestVm vm;
  private StageContext.Standalone context;

  @BeforeAll
  static void start() throws IOException {
    vm = TestVm.start(dir);
  }

  @AfterAll
  static void stop() {
    vm.close();
  }

  @AfterEach
  void closeContext() {
    if (context != null) {
      context.close();
    }
  }

  private StageContext ctx() {
    if (context != null) {
      context.close();
    }
    context = TestVm.context(Stage.DELIVER);
    return context;
  }

  private static SshTransport transport() {
    return SshTransport.using(vm.connector);
  }

  private static Map<String, DeliveredFile> files(Target target) {
    return SshTransportContractTest.readDirectory(Path.of(target.configDir())).orElseThrow();
  }

  /**
   * What the transport may leave next to the config directory besides its state directory, and in
   * the state directory besides the list of generations and the kept bundle: must be nothing once
   * it is done.
   */
  private static List<Path> litter(Target target) throws IOException {
    Path configDir = Path.of(target.configDir());
    Path state = state(target);
    List<Path> litter = new java.util.ArrayList<>();
    try (Stream<Path> siblings = Files.list(configDir.getParent())) {
      siblings
          .filter(p -> p.getFileName().toString().startsWith("." + configDir.getFileName()))
          .filter(p -> !p.equals(state))
          .forEach(litter::add);
    }
    if (Files.isDirectory(state)) {
      try (Stream<Path> inside = Files.list(state)) {
        inside
            .filter(p -> !List.of("gens", "previous").contains(p.getFileName().toString()))
            .forEach(litter::add);
      }
    }
    return litter;
  }

  /** vmonboard's owner-only state directory next to {@code target}'s config directory. */
  private static Path state(Target target) {
    Path configDir = Path.of(target.configDir());
    return configDir.resolveSibling("." + configDir.getFileName() + ".vmonboard");
  }

  @Test
  void writesTheTokenOwnerOnlyAndTheDirectoryNotWorldReadable() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    Map<String, DeliveredFile> files = files(target);
    assertThat(files.get(Bundles.TOKEN).mode()).isEqualTo(0600);
    assertThat(files.get("sidecar.env").mode()).isEqualTo(0644);
    assertThat(TestVm.mode(Path.of(target.configDir()))).isEqualTo(0750);
    assertThat(litter(target)).isEmpty();
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void replacesTheTokenAloneInPlace() throws Exception {
    Target target = vm.newTarget();
    Bundle v1 = Bundles.container("v1");
    transport().deliver(v1, target, ctx());
    Bundle v2 = Bundles.container("v2");
    transport().deliverToken(v2, target, ctx());
    Map<String, DeliveredFile> files = files(target);
    assertThat(files.get(Bundles.TOKEN).text()).endsWith("-v2");
    assertThat(files.get(Bundles.TOKEN).mode()).isEqualTo(0600);
    assertThat(files.get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void keepsThePreviousBundleWhenTheConnectionIsCutMidTransfer() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    byte[] large = new byte[4 << 20];
    new Random(7).nextBytes(large);
    Bundle v2 =
        Bundle.builder()
            .from(Bundles.container("v2"))
            .addFiles(BundleFile.of("large.bin", 0644, large))
            .build();
    try (TcpRelay relay = TcpRelay.cuttingAfter(vm.vm.port(), 1 << 20)) {
      Files.writeString(
          vm.knownHosts,
          vm.vm.knownHostsLine().replace(":" + vm.vm.port() + " ", ":" + relay.port() + " ") + "\n",
          java.nio.file.StandardOpenOption.APPEND);
      Target viaRelay = Target.builder().from(target).port(relay.port()).build();
      assertThatThrownBy(() -> transport().deliver(v2, viaRelay, ctx()))
          .isInstanceOf(StageException.class)
          .satisfies(e -> assertThat(((StageException) e).isTransient()).isTrue())
          .satisfies(Canary::assertAbsent);
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(litter(target)).isEmpty());
    Map<String, DeliveredFile> files = files(target);
    assertThat(files).doesNotContainKey("large.bin");
    assertThat(files.get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
  }

  @Test
  void reportsAConfigDirectoryThatCannotBeWritten() throws Exception {
    Path file = Files.writeString(vm.vm.root().resolve("not-a-directory"), "x");
    Target target = vm.target(file.resolve("istio-proxy").toString());
    assertThatThrownBy(() -> transport().deliver(Bundles.container("v1"), target, ctx()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("deliver the bundle for ns/vm-1 on ")
        .hasMessageContaining("exit code 21")
        .hasMessageContaining("cannot create")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isFalse())
        .satisfies(
            e -> assertThat(((StageException) e).hint().orElseThrow()).contains("may write"));
  }

  @Test
  void refusesToReplaceOrDeleteADirectoryItDidNotWrite() throws Exception {
    Path foreign = Files.createDirectories(vm.vm.root().resolve("etc/important"));
    Files.writeString(foreign.resolve("keep.conf"), "precious");
    Target target = vm.target(foreign.toString());
    assertThatThrownBy(() -> transport().deliver(Bundles.container("v1"), target, ctx()))
        .hasMessageContaining("exit code 20")
        .hasMessageContaining("holds files vmonboard did not record as its own");
    assertThatThrownBy(() -> transport().remove(target, ctx()))
        .hasMessageContaining("exit code 20");
    assertThat(foreign.resolve("keep.conf")).hasContent("precious");
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void removeDeletesTheBundleAndWhatAKilledDeliveryLeftBehind() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    Path configDir = Path.of(target.configDir());
    Files.createDirectory(state(target).resolve("new"));
    transport().remove(target, ctx());
    assertThat(configDir).doesNotExist();
    assertThat(state(target)).doesNotExist();
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void aDeliveryPutsBackABundleThatAKilledSwapLeftAside() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    Path configDir = Path.of(target.configDir());
    Files.move(configDir, state(target).resolve("old"));
    // Every script first puts back what a killed swap left aside: the token then has its bundle.
    transport().deliverToken(Bundles.container("v2"), target, ctx());
    assertThat(files(target).get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    assertThat(files(target).get(Bundles.TOKEN).text()).endsWith("-v2");
    transport().remove(target, ctx());
    assertThat(configDir).doesNotExist();
    assertThat(litter(target)).isEmpty();
  }

  /** A new target to which v1, then v2 was delivered. */
  private Target updated() {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    transport().deliver(Bundles.container("v2"), target, ctx());
    return target;
  }

  /** {@code KIND} in the state directory of {@code target}. */
  private static Path sibling(Target target, String kind) {
    return state(target).resolve(kind);
  }

  @Test
  void keepsTheReplacedBundleOwnerOnlyUntilItIsRestored() throws Exception {
    Target target = updated();
    Path configDir = Path.of(target.configDir());
    Path kept = sibling(target, "previous");
    assertThat(litter(target)).isEmpty();
    assertThat(kept).isDirectory();
    assertThat(TestVm.mode(state(target))).isEqualTo(0700);
    assertThat(TestVm.mode(kept)).isEqualTo(0750);
    assertThat(TestVm.mode(kept.resolve(Bundles.TOKEN))).isEqualTo(0600);

    assertThat(transport().restorePrevious(target, ctx())).isTrue();

    Map<String, DeliveredFile> files = files(target);
    assertThat(files.get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    assertThat(files.get(Bundles.TOKEN).text()).endsWith("-v1");
    assertThat(files.get(Bundles.TOKEN).mode()).isEqualTo(0600);
    assertThat(TestVm.mode(configDir)).isEqualTo(0750);
    assertThat(litter(target)).isEmpty();
    assertThat(transport().restorePrevious(target, ctx())).as("nothing kept any more").isFalse();
    assertThat(files(target).get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    Canary.assertAbsent("commands received by the VM", vm.vm.receivedCommands());
  }

  @Test
  void aFirstDeliveryKeepsNothingAndADiscardLeavesNoLitter() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    assertThat(litter(target)).isEmpty();
    assertThat(transport().restorePrevious(target, ctx())).isFalse();

    transport().deliver(Bundles.container("v2"), target, ctx());
    transport().discardPrevious(target, ctx());

    assertThat(litter(target)).isEmpty();
    assertThat(files(target).get("sidecar.env").text()).isEqualTo("VERSION=v2\n");
    transport().discardPrevious(target, ctx());
  }

  @Test
  void removeAlsoDeletesTheKeptBundle() throws Exception {
    Target target = updated();

    transport().remove(target, ctx());

    assertThat(Path.of(target.configDir())).doesNotExist();
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void aRestoreKilledBetweenItsTwoRenamesIsUndoneAndCanBeDoneAgain() throws Exception {
    Target target = updated();
    // What a restore killed after moving the failed bundle aside leaves: no config directory.
    Files.move(Path.of(target.configDir()), sibling(target, "old"));

    assertThat(transport().restorePrevious(target, ctx())).isTrue();

    assertThat(files(target).get("sidecar.env").text()).isEqualTo("VERSION=v1\n");
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void describesTheDeliveryWithoutTheToken() {
    List<String> plan = transport().describeDelivery(Bundles.container("v1"), vm.newTarget());
    assertThat(plan.get(0)).contains("one exec channel");
    Canary.assertAbsent("plan", plan);
  }

  @Test
  void refreshesTheTokenByARenameInsideItsDirectorySoThatTheMountSeesIt() throws Exception {
    Target target = vm.newTarget();
    transport().deliver(Bundles.container("v1"), target, ctx());
    Path tokens = Path.of(target.configDir()).resolve(Bundles.TOKEN_DIRECTORY);
    Object directory = Files.getAttribute(tokens, "unix:ino");
    Object oldFile = Files.getAttribute(tokens.resolve("istio-token"), "unix:ino");

    transport().deliverToken(Bundles.container("v2"), target, ctx());

    assertThat(tokens.resolve("istio-token")).content().endsWith("-v2");
    assertThat(TestVm.mode(tokens.resolve("istio-token"))).isEqualTo(0600);
    assertThat(Files.getAttribute(tokens, "unix:ino")).isEqualTo(directory);
    assertThat(Files.getAttribute(tokens.resolve("istio-token"), "unix:ino"))
        .as("a new file renamed in, not the old one rewritten")
        .isNotEqualTo(oldFile);
    try (Stream<Path> inside = Files.list(tokens)) {
      assertThat(inside).containsExactly(tokens.resolve("istio-token"));
    }
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void refusesToRefreshATokenIntoABundleOfTheOlderLayout() throws Exception {
    Target target = vm.newTarget();
    Bundle flat =
        Bundle.builder()
            .from(Bundles.container("v1"))
            .files(
                List.of(
                    BundleFile.of("sidecar.env", 0644, Bundles.bytes("VERSION=v1\n")),
                    BundleFile.secret("istio-token", Bundles.bytes("old-layout-token"))))
            .tokenPath("istio-token")
            .build();
    transport().deliver(flat, target, ctx());
    assertThatThrownBy(() -> transport().deliverToken(Bundles.container("v2"), target, ctx()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("exit code 27")
        .hasMessageContaining("older layout")
        .satisfies(Canary::assertAbsent);
    assertThat(files(target).get("istio-token").text()).isEqualTo("old-layout-token");
    assertThat(litter(target)).isEmpty();
  }

  @Test
  void writesEveryByteValueAndEveryModeExactly() throws Exception {
    byte[] all = new byte[512];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    byte[] tricky = Bundles.bytes("-n %s %% \\ \\055 ' \" $(touch nope) `x`\r\n\n");
    Target target = vm.newTarget();
    Bundle bundle =
        Bundle.builder()
            .from(Bundles.container("v1"))
            .addFiles(
                BundleFile.of("bin/all-bytes", 0640, all),
                BundleFile.of("tricky", 0644, tricky),
                BundleFile.of("run.sh", 0755, Bundles.bytes("#!/bin/sh\n")),
                BundleFile.of("empty", 0600, new byte[0]))
            .build();
    transport().deliver(bundle, target, ctx());
    Map<String, DeliveredFile> files = files(target);
    assertThat(files.get("bin/all-bytes").content()).isEqualTo(all);
    assertThat(files.get("bin/all-bytes").mode()).isEqualTo(0640);
    assertThat(files.get("tricky").content()).isEqualTo(tricky);
    assertThat(files.get("run.sh").mode()).isEqualTo(0755);
    assertThat(files.get("empty").content()).isEmpty();
    assertThat(files.get("empty").mode()).isEqualTo(0600);
    assertThat(vm.vm.root().resolve("nope")).doesNotExist();
  }
}
