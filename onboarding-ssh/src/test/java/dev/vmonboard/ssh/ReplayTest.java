package dev.vmonboard.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.testing.InMemoryRegistrar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The capture and replay machinery of {@code LimitBenchmark}: what the SDK sent to a VM, sent again
 * by the bare client to the same VM wiped clean, leaves the same files, modes and running container
 * behind; so the replay does the same remote work as the SDK, whatever its scripts are.
 */
class ReplayTest {

  @TempDir Path dir;

  @Test
  void replayingACapturedOnboardingReproducesTheSameFilesAndContainer() throws Exception {
    try (TestVm vm = TestVm.start(dir)) {
      Replay.Recorder recorder = new Replay.Recorder();
      vm.connector.tap(recorder);
      Path etc = Files.createDirectories(vm.vm.root().resolve("etc"));
      Workload workload =
          BenchmarkSetup.workload("replayed", vm.vm.port(), etc.resolve("istio-proxy"));
      InMemoryRegistrar registrar = new InMemoryRegistrar();
      registrar.add(workload);
      OnboardingPipeline pipeline =
          OnboardingPipeline.builder()
              .registrar(registrar)
              .tokenIssuer(BenchmarkSetup.TOKENS)
              .meshSource(MeshConfigSource.fixed(BenchmarkSetup.mesh()))
              .bundleFactory(ContainerBundleFactory.create())
              .transport(SshTransport.using(vm.connector))
              .launcher(ContainerProxyLauncher.builder(vm.connector).build())
              .build();

      OnboardingResult result = pipeline.onboard(workload.ref());

      assertThat(result.isSuccess()).as(String.valueOf(result)).isTrue();
      List<Replay.Transcript> transcripts = recorder.take();
      assertThat(transcripts).hasSize(1);
      Replay.Transcript transcript = transcripts.get(0);
      assertThat(transcript.port()).isEqualTo(vm.vm.port());
      assertThat(transcript.channels()).extracting(Replay.Channel::command).containsExactly("sh");
      assertThat(transcript.chunks()).isGreaterThanOrEqualTo(2); // a delivery and a launch
      Map<String, String> bySdk = snapshot(etc);
      assertThat(bySdk).containsKey("istio-proxy/tokens/istio-token");
      Map<String, String> containersBySdk = vm.vm.containers();
      assertThat(containersBySdk).containsValue("running");

      deleteTree(etc);
      Files.createDirectories(etc);
      vm.vm.standIns().removeContainers();
      assertThat(vm.vm.containers()).isEmpty();
      int connections = vm.vm.connectionsAccepted();
      new Replay.Client(vm.key.identity(), vm.knownHosts).replay(transcript);

      assertThat(snapshot(etc)).isEqualTo(bySdk);
      assertThat(vm.vm.containers()).isEqualTo(containersBySdk);
      assertThat(vm.vm.connectionsAccepted()).isEqualTo(connections + 1);
      assertThat(vm.vm.receivedCommands()).containsExactly("sh", "sh");
    }
  }

  /** Every path under {@code root} with its type, mode and content (hex for files). */
  private static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.filter(p -> !p.equals(root)).toList()) {
        String what;
        if (Files.isSymbolicLink(path)) {
          what = "link " + Files.readSymbolicLink(path);
        } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
          what = "dir " + Integer.toOctalString(TestVm.mode(path));
        } else {
          what =
              "file "
                  + Integer.toOctalString(TestVm.mode(path))
                  + " "
                  + HexFormat.of().formatHex(Files.readAllBytes(path));
        }
        entries.put(root.relativize(path).toString(), what);
      }
    }
    return entries;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
