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
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

  @Test
  void anExistingCertificateIsReplacedByARenameAndNoTemporaryFileIsLeft() throws Exception {
    assertThat(run(Map.of()).exitCode()).isZero();
    Path certificate = layout.resolve("etc-certs/root-cert.pem");
    Object first = Files.readAttributes(certificate, BasicFileAttributes.class).fileKey();
    assertThat(run(Map.of()).exitCode()).isZero();
    assertThat(Files.readAttributes(certificate, BasicFileAttributes.class).fileKey())
        .isNotEqualTo(first);
    assertThat(LocalFiles.mode(certificate)).isEqualTo(0644);
    try (Stream<Path> files = Files.list(layout.resolve("etc-certs"))) {
      assertThat(files.map(path -> path.getFileName().toString())).containsExactly("root-cert.pem");
    }
  }

  @Test
  void aCertificateDirectoryPlantedAsALinkIsRefused() throws Exception {
    HostileFiles.plantLink(layout.resolve("etc-certs"), victim());
    assertRefusedWithNothingChanged("is a link, not a directory");
  }

  @Test
  void aCertificateDirectoryOthersCanWriteOrOfAnotherUserIsRefused() throws Exception {
    Path certs = Files.createDirectory(layout.resolve("etc-certs"));
    HostileFiles.chmod(certs, 0777);
    assertRefusedWithNothingChanged("writable by others");
    HostileFiles.chmod(certs, 0700);
    HostileFiles.giveToOtherUser(certs);
    assertRefusedWithNothingChanged("not owned by uid 0");
  }

  @Test
  void aCertificatePlantedAsALinkOrAFifoIsNotWrittenThrough() throws Exception {
    Path certs = Files.createDirectory(layout.resolve("etc-certs"));
    LocalFiles.setMode(certs, 0700);
    Path victim = victim();
    Files.createSymbolicLink(certs.resolve("root-cert.pem"), victim.resolve("data.txt"));
    assertRefusedWithNothingChanged("root-cert.pem is a link or not a regular file");
    Files.delete(certs.resolve("root-cert.pem"));
    Files.createSymbolicLink(certs.resolve("root-cert.pem"), victim);
    assertRefusedWithNothingChanged("root-cert.pem is a link or not a regular file");
    Files.delete(certs.resolve("root-cert.pem"));
    HostileFiles.fifo(certs.resolve("root-cert.pem"));
    assertRefusedWithNothingChanged("root-cert.pem is a link or not a regular file");
  }

  @Test
  void aLayoutUnderADirectoryOthersCanWriteIsRefused() throws Exception {
    HostileFiles.chmod(layout.getParent(), 0777);
    assertRefusedWithNothingChanged("can be changed by another user");
    HostileFiles.chmod(layout.getParent(), 0700);
    HostileFiles.giveToOtherUser(layout.getParent());
    assertRefusedWithNothingChanged("can be changed by another user");
  }

  /** Another user's directory with a file in it, next to the layout. */
  private Path victim() throws IOException {
    Path victim = Files.createDirectory(temp.resolve("victim"));
    Files.writeString(victim.resolve("data.txt"), "the victim's data\n");
    return victim;
  }

  /**
   * Runs the script, which must fail saying {@code why} before the runtime is called, with nothing
   * changed under the temp directory but the script's own output and the runtime's log.
   */
  private void assertRefusedWithNothingChanged(String why) throws Exception {
    Map<String, String> before = HostileFiles.snapshot(temp);
    Result result = run(Map.of());
    assertThat(result.exitCode()).as(result.output()).isNotZero();
    assertThat(result.output()).contains(why);
    assertThat(result.calls()).isEmpty();
    Map<String, String> after = HostileFiles.snapshot(temp);
    after.remove("script.out");
    before.remove("script.out");
    assertThat(after).isEqualTo(before);
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
    Path output = temp.resolve("script.out");
    builder.redirectOutput(output.toFile());
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the start script hangs: " + Files.readString(output));
    }
    return new Result(process.exitValue(), Files.readString(output), calls());
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
