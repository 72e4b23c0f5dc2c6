package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Values from annotations and options with shell metacharacters are either passed through safely or
 * refused with a clear error, and no injected command ever runs on the VM: every injection tries to
 * create a canary file, and none may exist afterwards.
 */
class HostileValuesTest {

  static TestVm vm;
  static Path canaries;
  private final List<StageContext.Standalone> contexts = new ArrayList<>();

  @BeforeAll
  static void start(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    vm = TestVm.start(dir);
    canaries = Files.createDirectories(vm.vm.root().resolve("canaries"));
  }

  @AfterAll
  static void stop() throws IOException {
    try (Stream<Path> left = Files.list(canaries)) {
      assertThat(left).as("canary files created by injected commands").isEmpty();
    }
    assertThat(vm.vm.receivedCommands())
        .as("no value reaches a command line: every exec request starts the shell")
        .isNotEmpty()
        .allMatch(command -> command.equals("sh"));
    vm.close();
  }

  @AfterEach
  void closeContexts() {
    contexts.forEach(StageContext.Standalone::close);
  }

  private StageContext context() {
    StageContext.Standalone c = TestVm.context(Stage.DELIVER);
    contexts.add(c);
    return c;
  }

  /** Each value tries to create {@code canaries/N} if a shell ever interprets it. */
  static Stream<String> injections() {
    String c = "canaries/";
    return Stream.of(
        "a;touch " + c + "semicolon",
        "a && touch " + c + "and",
        "$(touch " + c + "dollar)",
        "`touch " + c + "backtick`",
        "a'; touch " + c + "quote; '",
        "a\"; touch " + c + "dquote; \"",
        "with spaces | touch " + c + "pipe",
        "a\ntouch " + c + "newline");
  }

  private static boolean hasControl(String value) {
    return value.chars().anyMatch(ch -> ch < 0x20);
  }

  @ParameterizedTest
  @MethodSource("injections")
  void configDirIsPassedSafelyOrRefused(String hostile) throws Exception {
    String configDir = vm.vm.root().resolve("etc").resolve(hostile).toString();
    Target target = vm.target(configDir);
    Bundle bundle = Bundles.container("v1");
    SshTransport transport = SshTransport.using(vm.connector);
    if (hasControl(hostile)) {
      assertThatThrownBy(() -> transport.deliver(bundle, target, context()))
          .isInstanceOf(StageException.class)
          .hasMessageContaining("must not contain control characters");
      return;
    }
    transport.deliver(bundle, target, context());
    assertThat(Path.of(configDir).resolve("sidecar.env")).hasContent("VERSION=v1");
    ContainerProxyLauncher launcher =
        ContainerProxyLauncher.builder(vm.connector)
            .readinessTimeout(Duration.ofSeconds(5))
            .pollInterval(Duration.ofMillis(100))
            .build();
    launcher.launch(bundle, target, context());
    assertThat(lastRun()).contains("--env-file", configDir + "/sidecar.env");
    launcher.remove(bundle, target, context());
    transport.remove(target, context());
    assertThat(Path.of(configDir)).doesNotExist();
  }

  @ParameterizedTest
  @MethodSource("injections")
  void containerNameAndImageAreRefused(String hostile) {
    Target target = vm.newTarget();
    ContainerProxyLauncher launcher = ContainerProxyLauncher.builder(vm.connector).build();
    Bundle badName = Bundles.bundle("v1", Bundles.containerLaunch().containerName(hostile).build());
    assertThatThrownBy(() -> launcher.launch(badName, target, context()))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("invalid container name")
        .satisfies(e -> assertThat(((StageException) e).isTransient()).isFalse());
    Bundle badHub =
        Bundles.bundle(
            "v1", Bundles.containerLaunch().image("docker.io/" + hostile + "/proxyv2:1.9").build());
    assertThatThrownBy(() -> launcher.launch(badHub, target, context()))
        .hasMessageContaining("invalid image");
  }

  @Test
  void logLevelAndLabelArgumentsReachTheRuntimeUnchanged() throws Exception {
    Target target = vm.newTarget();
    List<String> args = new ArrayList<>(List.of("proxy", "sidecar"));
    injections()
        .forEach(
            hostile -> {
              args.add("--proxyLogLevel");
              args.add(hostile);
            });
    Bundle bundle = Bundles.bundle("v1", Bundles.containerLaunch().args(args).build());
    SshTransport.using(vm.connector).deliver(bundle, target, context());
    ContainerProxyLauncher.builder(vm.connector)
        .readinessTimeout(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .build()
        .launch(bundle, target, context());
    List<String> run = lastRun();
    assertThat(run.subList(run.size() - args.size(), run.size())).isEqualTo(args);
  }

  private static List<String> lastRun() {
    return vm.vm.toolCalls().stream()
        .filter(c -> c.size() > 1 && c.get(0).equals("docker") && c.get(1).equals("run"))
        .reduce((a, b) -> b)
        .orElseThrow();
  }
}
