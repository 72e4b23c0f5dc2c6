package dev.vmonboard.core.bundle;

import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.bundle;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.bundleOf;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.context;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.deliver;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TransportContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** {@link ArchiveTransport}: the Transport contract in both layouts, then its own rules. */
class ArchiveTransportTest {

  private static final Target TARGET =
      Target.builder().host("offline").configDir("/tmp/istio-proxy").build();

  @TempDir Path temp;

  /** The contract, each workload under {@code name.namespace/}. */
  @Nested
  class PerWorkload extends TransportContract {
    @TempDir Path root;
    private ArchiveTransport transport;

    @Override
    protected Transport transport() {
      if (transport == null) {
        transport = ArchiveTransport.perWorkload(root.resolve("fleet.tgz"));
      }
      return transport;
    }

    @Override
    protected Target newTarget() {
      return TARGET;
    }

    @Override
    protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
      return readEtc((ArchiveTransport) transport(), workload());
    }
  }

  /** The contract, one workload at the archive's root. */
  @Nested
  class SingleWorkload extends TransportContract {
    @TempDir Path root;
    private ArchiveTransport transport;

    @Override
    protected Transport transport() {
      if (transport == null) {
        transport = ArchiveTransport.singleWorkload(root.resolve("vm.tgz"));
      }
      return transport;
    }

    @Override
    protected Target newTarget() {
      return TARGET;
    }

    @Override
    protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
      return readEtc((ArchiveTransport) transport(), workload());
    }
  }

  @Test
  void theArchiveIsOwnerOnly() throws IOException {
    ArchiveTransport transport = ArchiveTransport.perWorkload(temp.resolve("fleet.tgz"));
    deliver(transport, bundle("v1"));
    assertThat(LocalFiles.mode(transport.archive())).isEqualTo(0600);
  }

  @Test
  void aSingleWorkloadArchiveHoldsTheLayoutAtItsRoot() throws IOException {
    ArchiveTransport transport = ArchiveTransport.singleWorkload(temp.resolve("vm.tgz"));
    deliver(transport, bundle("v1"));
    assertThat(ArchiveTransport.read(transport.archive()))
        .extracting(entry -> String.format("%04o", entry.mode()) + " " + entry.path())
        .containsExactly(
            "0644 " + ArchiveTransport.MARKER,
            "0750 etc",
            "0750 bin",
            "0644 etc/sidecar.env",
            "0600 etc/istio-token",
            "0755 bin/start-istio-proxy.sh");
  }

  @Test
  void removingOneWorkloadKeepsTheOthersAndTheLastOneDeletesTheArchive() {
    ArchiveTransport transport = ArchiveTransport.perWorkload(temp.resolve("fleet.tgz"));
    WorkloadRef other = WorkloadRef.of("vm-apps", "vm-2");
    deliver(transport, bundle("v1"));
    deliver(transport, bundleOf(other, "v2"));
    transport.remove(TARGET, context(LocalDirectoryTransportTest.workload(), Stage.REMOVE_BUNDLE));
    assertThat(readEtc(transport, LocalDirectoryTransportTest.workload())).isEmpty();
    assertThat(readEtc(transport, other).orElseThrow().get("sidecar.env").text())
        .isEqualTo("VERSION=v2\n");
    transport.remove(TARGET, context(other, Stage.REMOVE_BUNDLE));
    assertThat(transport.archive()).doesNotExist();
  }

  @Test
  void aFailedWriteKeepsThePreviousArchiveAndLeavesNoTemporaryFile() throws IOException {
    Path archive = temp.resolve("fleet.tgz");
    deliver(ArchiveTransport.perWorkload(archive), bundle("v1"));
    ArchiveTransport failing =
        new ArchiveTransport(
            archive,
            true,
            staging -> {
              throw new IOException("disk full");
            });
    StageException failure =
        catchThrowableOfType(StageException.class, () -> deliver(failing, bundle("v2")));
    assertThat(failure).hasMessageContaining("disk full");
    Canary.assertAbsent(failure);
    ArchiveTransport reader = ArchiveTransport.perWorkload(archive);
    assertThat(
            readEtc(reader, LocalDirectoryTransportTest.workload())
                .orElseThrow()
                .get("sidecar.env")
                .text())
        .isEqualTo("VERSION=v1\n");
    try (Stream<Path> children = Files.list(temp)) {
      assertThat(children.map(path -> path.getFileName().toString()).toList())
          .containsExactly("fleet.tgz");
    }
  }

  @Test
  void aSingleWorkloadArchiveRefusesASecondWorkload() {
    ArchiveTransport transport = ArchiveTransport.singleWorkload(temp.resolve("vm.tgz"));
    deliver(transport, bundle("v1"));
    StageException refused =
        catchThrowableOfType(
            StageException.class,
            () -> deliver(transport, bundleOf(WorkloadRef.of("vm-apps", "vm-2"), "v1")));
    assertThat(refused).hasMessageContaining("already holds the bundle of vm-apps/vm-1");
    assertThat(refused.hint()).hasValueSatisfying(hint -> assertThat(hint).contains("perWorkload"));
  }

  @Test
  void aSingleWorkloadArchiveKnowsItsWorkloadAcrossTransports() {
    Path archive = temp.resolve("vm.tgz");
    deliver(ArchiveTransport.singleWorkload(archive), bundle("v1"));
    ArchiveTransport later = ArchiveTransport.singleWorkload(archive);
    WorkloadRef other = WorkloadRef.of("vm-apps", "vm-2");
    assertThat(
            catchThrowableOfType(StageException.class, () -> deliver(later, bundleOf(other, "v1"))))
        .hasMessageContaining("already holds the bundle of vm-apps/vm-1");
    later.remove(TARGET, context(other, Stage.REMOVE_BUNDLE));
    assertThat(archive).exists();
  }

  @Test
  void refusesToReplaceAFileThatIsNotItsArchive() throws IOException {
    Path archive = temp.resolve("other.tgz");
    deliver(ArchiveTransport.perWorkload(temp.resolve("x.tgz")), bundle("v1"));
    Files.copy(temp.resolve("x.tgz"), archive);
    LocalFiles.setMode(archive, 0600);
    ArchiveTransport single = ArchiveTransport.singleWorkload(archive);
    assertThat(catchThrowableOfType(StageException.class, () -> deliver(single, bundle("v1"))))
        .hasMessageContaining("not part of a bundle layout");
    Path notes = temp.resolve("notes.txt");
    Files.writeString(notes, "not an archive");
    LocalFiles.setMode(notes, 0600);
    ArchiveTransport onText = ArchiveTransport.perWorkload(notes);
    assertThat(catchThrowableOfType(StageException.class, () -> deliver(onText, bundle("v1"))))
        .hasMessageContaining("reading");
    assertThat(notes).hasContent("not an archive");
  }

  @Test
  void concurrentDeliveriesToOneArchiveAllLand() throws Exception {
    ArchiveTransport transport = ArchiveTransport.perWorkload(temp.resolve("fleet.tgz"));
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        var bundle = bundleOf(WorkloadRef.of("fleet", "vm-" + i), "v" + i);
        futures.add(pool.submit(() -> deliver(transport, bundle)));
      }
      for (Future<?> future : futures) {
        future.get();
      }
    } finally {
      pool.shutdown();
    }
    for (int i = 0; i < 12; i++) {
      assertThat(readEtc(transport, WorkloadRef.of("fleet", "vm-" + i))).isPresent();
    }
  }

  static Optional<Map<String, TransportContract.DeliveredFile>> readEtc(
      ArchiveTransport transport, WorkloadRef workload) {
    if (!Files.exists(transport.archive())) {
      return Optional.empty();
    }
    String etc = transport.prefixOf(workload) + "etc/";
    Map<String, TransportContract.DeliveredFile> files = new TreeMap<>();
    try {
      for (OfflineLayout.Entry entry : ArchiveTransport.read(transport.archive())) {
        if (!entry.directory() && entry.path().startsWith(etc)) {
          files.put(
              entry.path().substring(etc.length()),
              new TransportContract.DeliveredFile(entry.mode(), entry.content()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files.isEmpty() ? Optional.empty() : Optional.of(files);
  }
}
