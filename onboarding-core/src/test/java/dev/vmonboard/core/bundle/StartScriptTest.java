package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.testing.TestMeshes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the generated {@code bin/start-istio-proxy.sh} for real, from a directory whose name is full
 * of shell syntax (quotes, {@code $(...)}, backquotes, {@code ;}, a newline), with a fake {@code
 * docker} first on the PATH that records its arguments: the runtime must receive exactly {@link
 * ContainerLaunch#runArguments(String)} for the layout's {@code etc}, and nothing in the path may
 * run.
 */
class StartScriptTest {

  private static final String HOSTILE = "it's a \"dir\" $(touch pwned) `touch pwned2`; & x\ny";

  @TempDir Path temp;
  private Path layout;
  private Path fakeBin;
  private Path log;
  private Bundle bundle;

  @BeforeEach
  void writeLayoutAndFakeRuntime() throws IOException {
    layout = temp.resolve(HOSTILE).resolve("backend");
    bundle = BundleFixtures.container(BundleFixtures.networkAppStats(), TestMeshes.typical());
    try (StageContext.Standalone context =
        StageContext.standalone(bundle.workload(), Stage.DELIVER, Duration.ofSeconds(30))) {
      LocalDirectoryTransport.singleWorkload(layout)
          .deliver(bundle, Target.builder().host("h").configDir("/tmp/x").build(), context);
    }
    fakeBin = Files.createDirectory(temp.resolve("fake-bin"));
    log = temp.resolve("runtime.log");
    String recorder =
        "#!/bin/sh\n"
            + "printf '%s\\0' \"$(basename \"$0\")\" \"$#\" \"$@\" >> \"$FAKE_RUNTIME_LOG\"\n"
            + "if [ \"$1\" = rm ] && [ -n \"${FAKE_RM_FAILS:-}\" ]; then exit 1; fi\n"
            + "if [ \"$1\" = run ] && [ -n \"${FAKE_RUN_FAILS:-}\" ]; then exit 125; fi\n"
            + "exit 0\n";
    for (String name : List.of("docker", "podman")) {
      Path fake = fakeBin.resolve(name);
      Files.writeString(fake, recorder);
      LocalFiles.setMode(fake, 0755);
    }
  }

  @Test
  void runtimeReceivesExactlyTheLaunchArgumentsWithThePathQuoted() throws Exception {
    Result result = run(Map.of());
    assertThat(result.exitCode()).as(result.output()).isZero();
    ContainerLaunch launch = (ContainerLaunch) bundle.launch();
    String etc = layout.resolve("etc").toString();
    assertThat(result.calls())
        .containsExactly(
            call("docker", "rm", "-f", "istio-proxy"),
            call("docker", launch.runArguments(etc).toArray(String[]::new)));
    assertThat(launch.runArguments(etc)).contains(etc + "/sidecar.env");
    assertNothingRanFromThePath();
  }

  @Test
  void createsTheCertificateDirectoryOwnerOnlyWithTheRootCertificate() throws Exception {
    assertThat(run(Map.of()).exitCode()).isZero();
    Path certs = layout.resolve("etc-certs");
    assertThat(LocalFiles.mode(certs)).isEqualTo(0700);
    assertThat(certs.resolve("root-cert.pem")).hasContent(TestMeshes.ROOT_CERT);
  }

  @Test
  void certificatesTheAgentRenewedSurviveARedeliveryAndARestart() throws Exception {
    assertThat(run(Map.of()).exitCode()).isZero();
    Path certs = layout.resolve("etc-certs");
    Files.writeString(certs.resolve("cert-chain.pem"), "renewed by the agent");
    try (StageContext.Standalone context =
        StageContext.standalone(bundle.workload(), Stage.DELIVER, Duration.ofSeconds(30))) {
      LocalDirectoryTransport.singleWorkload(layout)
          .deliver(bundle, Target.builder().host("h").configDir("/tmp/x").build(), context);
    }
    assertThat(run(Map.of()).exitCode()).isZero();
    assertThat(certs.resolve("cert-chain.pem")).hasContent("renewed by the agent");
    assertThat(certs.resolve("root-cert.pem")).hasContent(TestMeshes.ROOT_CERT);
  }

  @Test
  void containerRuntimeVariableChoosesAnotherRuntime() throws Exception {
    Result result = run(Map.of("CONTAINER_RUNTIME", "podman"));
    assertThat(result.exitCode()).isZero();
    assertThat(result.calls()).extracting(call -> call.get(0)).containsOnly("podman");
  }

  @Test
  void failureToRemoveAnOldContainerIsTolerated() throws Exception {
    Result result = run(Map.of("FAKE_RM_FAILS", "1"));
    assertThat(result.exitCode()).isZero();
    assertThat(result.calls()).hasSize(2);
  }

  @Test
  void failureToRunTheContainerFailsTheScript() throws Exception {
    assertThat(run(Map.of("FAKE_RUN_FAILS", "1")).exitCode()).isEqualTo(125);
  }

  private void assertNothingRanFromThePath() throws IOException {
    try (Stream<Path> all = Files.walk(temp)) {
      assertThat(all.map(path -> path.getFileName().toString())).doesNotContain("pwned", "pwned2");
    }
  }

  /** Runs the script by its path, from the layout's parent, with the fake runtimes first. */
  private Result run(Map<String, String> environment) throws IOException, InterruptedException {
    Files.deleteIfExists(log);
    ProcessBuilder builder =
        new ProcessBuilder("./backend/bin/start-istio-proxy.sh")
            .directory(layout.getParent().toFile())
            .redirectErrorStream(true);
    builder.environment().put("PATH", fakeBin + ":" + System.getenv("PATH"));
    builder.environment().put("FAKE_RUNTIME_LOG", log.toString());
    builder.environment().remove("CONTAINER_RUNTIME");
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = process.waitFor();
    return new Result(exit, output, calls());
  }

  /** The recorded calls: runtime name, then its arguments. */
  private List<List<String>> calls() throws IOException {
    List<List<String>> calls = new ArrayList<>();
    if (!Files.exists(log)) {
      return calls;
    }
    String[] words = Files.readString(log, StandardCharsets.UTF_8).split("\0", -1);
    int i = 0;
    while (i + 1 < words.length) {
      List<String> call = new ArrayList<>();
      call.add(words[i]);
      int count = Integer.parseInt(words[i + 1]);
      for (int j = 0; j < count; j++) {
        call.add(words[i + 2 + j]);
      }
      calls.add(call);
      i += 2 + count;
    }
    return calls;
  }

  private static List<String> call(String runtime, String... arguments) {
    List<String> call = new ArrayList<>();
    call.add(runtime);
    call.addAll(List.of(arguments));
    return call;
  }

  private record Result(int exitCode, String output, List<List<String>> calls) {}
}
