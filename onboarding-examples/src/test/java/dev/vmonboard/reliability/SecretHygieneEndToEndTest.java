package dev.vmonboard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.bundle.ArchiveTransport;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.bundle.LocalDirectoryTransport;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.NoSecretsInOutput;
import dev.vmonboard.ssh.EmbeddedVm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The token's way through a real run, end to end: it arrives on the VM owner-only in a directory
 * that others cannot read, and appears in no command, result, failure, plan or output (the check of
 * {@link NoSecretsInOutput} runs after each test of the module); it touches this machine's disk
 * only where a local output was asked for, and there owner-only too.
 */
class SecretHygieneEndToEndTest extends OnOneCluster {

  @Test
  void theCanaryTokenReachesTheVmOwnerOnlyAndNothingElse() throws Exception {
    OnboardingResult result = rig.pipeline().build().onboard(ref);

    assertThat(result.isSuccess()).as(result.toString()).isTrue();
    Path config = Rig.configDir(vm);
    String token = Files.readString(config.resolve(ContainerBundleFactory.TOKEN));
    assertThat(token).as("the canary travelled").startsWith(Canary.SECRET + ".");
    assertThat(Modes.of(config.resolve(ContainerBundleFactory.TOKEN))).isEqualTo("0600");
    try (var all = Files.walk(config)) {
      all.filter(Files::isDirectory)
          .forEach(d -> assertThat(Modes.bits(d) & 0007).as("others' bits of " + d).isZero());
    }
    for (String file : List.of("sidecar.env", "istio-ca.pem")) {
      assertThat(Files.readString(config.resolve(file))).doesNotContain(Canary.SECRET);
    }
    Canary.assertAbsent("result", result.toString());
    Canary.assertAbsent("plan", result.plan().orElseThrow().toString());
    Canary.assertAbsent("commands the VM received", String.join("\n", vm.receivedCommands()));
    Canary.assertAbsent("tool calls on the VM", vm.toolCalls().toString());
  }

  @Test
  void aFailureAfterTheTokenWasDeliveredShowsNoToken() throws Exception {
    use(rig.vm(EmbeddedVm.HttpClient.NONE));

    OnboardingResult result = rig.pipeline().build().onboard(ref);

    assertThat(result.failedStage()).contains(Stage.LAUNCH);
    assertThat(Files.readString(Rig.configDir(vm).resolve(ContainerBundleFactory.TOKEN)))
        .startsWith(Canary.SECRET);
    Canary.assertAbsent("result", result.toString());
    Canary.assertAbsent(result.failure().orElseThrow());
  }

  @Test
  void aDryRunShowsThePlanWithoutTokenAndNothingHappens() {
    int requests = rig.cluster.requestLog().size();

    OnboardingResult plan = rig.pipeline().build().dryRun().onboard(ref);

    assertThat(plan.outcome()).isEqualTo(OnboardingResult.Outcome.PLANNED);
    String text = plan.plan().orElseThrow().toString();
    assertThat(text).contains("istio-token");
    Canary.assertAbsent("dry-run plan", text);
    assertThat(Remote.writes(rig.cluster, requests)).as("no TokenRequest, no write").isEmpty();
    assertThat(vm.connectionsAccepted()).isZero();
  }

  @Test
  void theTokenTouchesThisMachinesDiskOnlyWhereALocalOutputWasAsked() throws Exception {
    FileTime start = FileTime.fromMillis(System.currentTimeMillis() - 1000);
    OnboardingResult overSsh = rig.pipeline().build().onboard(ref);
    assertThat(overSsh.isSuccess()).as(overSsh.toString()).isTrue();
    String token = Files.readString(Rig.configDir(vm).resolve(ContainerBundleFactory.TOKEN));
    String jwt = token.substring(Canary.SECRET.length() + 1);
    List<Path> vmDisks = rig.vms().stream().map(v -> v.root().getParent()).toList();

    Path module = Path.of("").toAbsolutePath();
    List<Path> local = tmp().startsWith(module) ? List.of(module) : List.of(tmp(), module);
    assertThat(filesHolding(local, vmDisks, start, jwt))
        .as("files on this machine, outside the VMs, that hold the token")
        .isEmpty();

    Path bundles = dir.resolve("bundles");
    deliverLocally(LocalDirectoryTransport.perWorkload(bundles));
    Path layout = bundles.resolve(name + ".vms");
    assertThat(Modes.of(layout.resolve("etc").resolve(ContainerBundleFactory.TOKEN)))
        .isEqualTo("0600");
    assertThat(Files.readString(layout.resolve("etc").resolve(ContainerBundleFactory.TOKEN)))
        .startsWith(Canary.SECRET);
    assertThat(Modes.bits(layout.resolve("etc")) & 0007).as("etc/, others' bits").isZero();

    Path archive = dir.resolve("bundles.tgz");
    deliverLocally(ArchiveTransport.perWorkload(archive));
    assertThat(Modes.of(archive)).isEqualTo("0600");
  }

  /** Onboards this test's workload again, into a local output instead of the VM. */
  private void deliverLocally(Transport output) {
    OnboardingResult result =
        rig.pipeline()
            .transport(output)
            .launcher(ProxyLauncher.none())
            .force(true)
            .build()
            .onboard(ref);
    assertThat(result.isSuccess()).as(result.toString()).isTrue();
  }

  @Test
  void theLeakCheckFindsTheCanaryInEveryKindOfOutput() {
    NoSecretsInOutput.leaksSinceLastCheck();

    LoggerFactory.getLogger("dev.vmonboard.reliability.selftest").debug("x {}", Canary.SECRET);
    System.err.println("printed " + Canary.SECRET);
    Logger.getLogger("selftest").warning("jul " + Rig.JWT_HEADER);

    List<String> leaks = NoSecretsInOutput.leaksSinceLastCheck();
    assertThat(leaks)
        .anyMatch(
            l ->
                l.startsWith(NoSecretsInOutput.logFile().orElseThrow().toString())
                    && l.contains("the canary"))
        .anyMatch(l -> l.startsWith("System.out/err") && l.contains("the canary"))
        .anyMatch(l -> l.startsWith("java.util.logging") && l.contains("watched secret"));
    assertThat(NoSecretsInOutput.leaksSinceLastCheck()).as("each leak is reported once").isEmpty();
  }

  /** Where this JVM's temporary files go (the module's target/, see its pom). */
  private static Path tmp() {
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** Files below {@code roots}, changed since {@code since}, outside {@code skip}, holding it. */
  private static List<Path> filesHolding(
      List<Path> roots, List<Path> skip, FileTime since, String secret) throws IOException {
    byte[] needle = secret.getBytes(StandardCharsets.US_ASCII);
    List<Path> found = new ArrayList<>();
    for (Path root : roots) {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              return skip.contains(d) || d.endsWith(".git")
                  ? FileVisitResult.SKIP_SUBTREE
                  : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (attrs.isRegularFile()
                  && attrs.lastModifiedTime().compareTo(since) >= 0
                  && attrs.size() < 64 << 20
                  && contains(file, needle)) {
                found.add(file);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    }
    return found;
  }

  private static boolean contains(Path file, byte[] needle) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      outer:
      for (int i = 0; i + needle.length <= bytes.length; i++) {
        for (int j = 0; j < needle.length; j++) {
          if (bytes[i + j] != needle[j]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
