package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TestMeshes;
import dev.vmonboard.core.testing.TransportContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LocalDirectoryTransport}: the Transport contract in both layouts, then its own rules. */
class LocalDirectoryTransportTest {

  private static final Target TARGET =
      Target.builder().host("offline").configDir("/tmp/istio-proxy").build();

  @TempDir Path temp;

  /** The contract, with one sub-directory per workload. */
  @Nested
  class PerWorkload extends TransportContract {
    @TempDir Path root;
    private LocalDirectoryTransport transport;

    @Override
    protected Transport transport() {
      if (transport == null) {
        transport = LocalDirectoryTransport.perWorkload(root);
      }
      return transport;
    }

    @Override
    protected Target newTarget() {
      return TARGET;
    }

    @Override
    protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
      return readEtc(((LocalDirectoryTransport) transport()).directoryOf(workload()));
    }
  }

  /** The contract, with the one workload in the directory itself. */
  @Nested
  class SingleWorkload extends TransportContract {
    @TempDir Path root;
    private LocalDirectoryTransport transport;

    @Override
    protected Transport transport() {
      if (transport == null) {
        transport = LocalDirectoryTransport.singleWorkload(root.resolve("bundle"));
      }
      return transport;
    }

    @Override
    protected Target newTarget() {
      return TARGET;
    }

    @Override
    protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
      return readEtc(root.resolve("bundle"));
    }
  }

  @Test
  void perWorkloadLayoutNamesSubDirectoriesNameDotNamespace() {
    LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(temp);
    assertThat(transport.directoryOf(WorkloadRef.of("vm-apps", "backend-vm-1")))
        .isEqualTo(temp.toAbsolutePath().resolve("backend-vm-1.vm-apps"));
  }

  @Test
  void aFailedDeliveryKeepsThePreviousBundleAndLeavesNoStaging() throws IOException {
    Path directory = temp.resolve("bundle");
    Bundle first = bundle("v1");
    deliver(LocalDirectoryTransport.singleWorkload(directory), first);
    LocalDirectoryTransport failing =
        new LocalDirectoryTransport(
            directory,
            false,
            staging -> {
              throw new IOException("disk full");
            });
    StageException failure =
        catchThrowableOfType(StageException.class, () -> deliver(failing, bundle("v2")));
    assertThat(failure)
        .hasMessageContaining("disk full")
        .hasMessageContaining(directory.toString());
    Canary.assertAbsent(failure);
    assertThat(directory.resolve("etc/sidecar.env")).hasContent("VERSION=v1\n");
    assertThat(siblings()).containsExactly("bundle");
  }

  @Test
  void aBundleThatCannotBeLaidOutLeavesThePreviousOneAlone() throws IOException {
    Path directory = temp.resolve("bundle");
    deliver(LocalDirectoryTransport.singleWorkload(directory), bundle("v1"));
    Bundle clash =
        Bundle.builder()
            .from(bundle("v2"))
            .addFiles(
                BundleFile.of("x", 0644, new byte[0]), BundleFile.of("x/y", 0644, new byte[0]))
            .build();
    catchThrowableOfType(
        StageException.class,
        () -> deliver(LocalDirectoryTransport.singleWorkload(directory), clash));
    assertThat(directory.resolve("etc/sidecar.env")).hasContent("VERSION=v1\n");
    assertThat(siblings()).containsExactly("bundle");
  }

  @Test
  void refusesToReplaceOrDeleteADirectoryItDidNotWrite() throws IOException {
    Path mine = Files.createDirectories(temp.resolve("home"));
    Files.writeString(mine.resolve("notes.txt"), "keep me");
    LocalDirectoryTransport transport = LocalDirectoryTransport.singleWorkload(mine);
    StageException refused =
        catchThrowableOfType(StageException.class, () -> deliver(transport, bundle("v1")));
    assertThat(refused).hasMessageContaining("is not a bundle directory");
    catchThrowableOfType(
        StageException.class,
        () -> transport.remove(TARGET, context(workload(), Stage.REMOVE_BUNDLE)));
    assertThat(mine.resolve("notes.txt")).hasContent("keep me");
  }

  @Test
  void aSingleWorkloadDirectoryRefusesASecondWorkloadUntilTheFirstIsRemoved() {
    LocalDirectoryTransport transport = LocalDirectoryTransport.singleWorkload(temp.resolve("b"));
    deliver(transport, bundle("v1"));
    Bundle other = bundleOf(WorkloadRef.of("vm-apps", "other"), "v1");
    StageException refused =
        catchThrowableOfType(StageException.class, () -> deliver(transport, other));
    assertThat(refused).hasMessageContaining("already holds the bundle of vm-apps/vm-1");
    assertThat(refused.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("perWorkload"));
    transport.remove(TARGET, context(workload(), Stage.REMOVE_BUNDLE));
    deliver(transport, other);
    assertThat(temp.resolve("b/etc/sidecar.env")).exists();
  }

  @Test
  void aSingleWorkloadDirectoryKnowsItsWorkloadAcrossTransports() {
    Path directory = temp.resolve("b");
    deliver(LocalDirectoryTransport.singleWorkload(directory), bundle("v1"));
    LocalDirectoryTransport later = LocalDirectoryTransport.singleWorkload(directory);
    WorkloadRef other = WorkloadRef.of("vm-apps", "other");
    assertThat(
            catchThrowableOfType(StageException.class, () -> deliver(later, bundleOf(other, "v1"))))
        .hasMessageContaining("already holds the bundle of vm-apps/vm-1");
    later.remove(TARGET, context(other, Stage.REMOVE_BUNDLE));
    assertThat(directory.resolve("etc/sidecar.env")).hasContent("VERSION=v1\n");
  }

  @Test
  void renewedCertificatesNextToEtcSurviveADelivery() throws IOException {
    Path directory = temp.resolve("bundle");
    LocalDirectoryTransport transport = LocalDirectoryTransport.singleWorkload(directory);
    Bundle container =
        BundleFixtures.container(BundleFixtures.networkAppStats(), TestMeshes.typical());
    deliver(transport, container);
    Path certs = Files.createDirectory(directory.resolve("etc-certs"));
    Files.writeString(certs.resolve("cert-chain.pem"), "renewed");
    deliver(transport, container);
    assertThat(certs.resolve("cert-chain.pem")).hasContent("renewed");
    transport.remove(TARGET, context(container.workload(), Stage.REMOVE_BUNDLE));
    assertThat(directory).doesNotExist();
  }

  @Test
  void describesTheLayoutWithoutTheToken() {
    LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(temp);
    List<String> lines = transport.describeDelivery(bundle("v1"), TARGET);
    assertThat(lines.get(0)).contains(temp.resolve("vm-1.vm-apps").toString());
    assertThat(lines)
        .contains(
            "  0644 etc/sidecar.env (11 bytes)",
            "  0600 etc/istio-token (secret, redacted)",
            "  0755 bin/start-istio-proxy.sh");
    Canary.assertAbsent("describeDelivery", lines);
  }

  @Test
  void concurrentDeliveriesOfAFleetAllLand() throws Exception {
    LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(temp);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        Bundle bundle = bundleOf(WorkloadRef.of("fleet", "vm-" + i), "v" + i);
        futures.add(pool.submit(() -> deliver(transport, bundle)));
      }
      for (Future<?> future : futures) {
        future.get();
      }
    } finally {
      pool.shutdown();
    }
    try (Stream<Path> children = Files.list(temp)) {
      assertThat(children.map(path -> path.getFileName().toString()).toList())
          .hasSize(24)
          .allMatch(name -> name.matches("vm-\\d+\\.fleet"));
    }
    assertThat(temp.resolve("vm-7.fleet/etc/sidecar.env")).hasContent("VERSION=v7\n");
  }

  private List<String> siblings() throws IOException {
    try (Stream<Path> children = Files.list(temp)) {
      return children.map(path -> path.getFileName().toString()).toList();
    }
  }

  static Optional<Map<String, TransportContract.DeliveredFile>> readEtc(Path layout) {
    Path etc = layout.resolve("etc");
    if (!Files.isDirectory(etc)) {
      return Optional.empty();
    }
    Map<String, TransportContract.DeliveredFile> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(etc)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        files.put(
            etc.relativize(file).toString(),
            new TransportContract.DeliveredFile(LocalFiles.mode(file), Files.readAllBytes(file)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Optional.of(files);
  }

  static WorkloadRef workload() {
    return WorkloadRef.of("vm-apps", "vm-1");
  }

  static Bundle bundle(String version) {
    return bundleOf(workload(), version);
  }

  static Bundle bundleOf(WorkloadRef workload, String version) {
    return Bundle.builder()
        .workload(workload)
        .addFiles(
            BundleFile.of(
                "sidecar.env",
                0644,
                ("VERSION=" + version + "\n").getBytes(StandardCharsets.UTF_8)))
        .tokenPath("istio-token")
        .launch(ContainerLaunch.builder().containerName("istio-proxy").image("proxyv2").build())
        .build()
        .withToken(BundleFixtures.TOKEN);
  }

  static void deliver(Transport transport, Bundle bundle) {
    transport.deliver(bundle, TARGET, context(bundle.workload(), Stage.DELIVER));
  }

  static StageContext context(WorkloadRef workload, Stage stage) {
    return StageContext.standalone(workload, stage, Duration.ofSeconds(30));
  }
}
