package dev.vmonboard.core.bundle;

import static dev.vmonboard.core.bundle.HostileFiles.chmod;
import static dev.vmonboard.core.bundle.HostileFiles.giveToOtherUser;
import static dev.vmonboard.core.bundle.HostileFiles.plantLink;
import static dev.vmonboard.core.bundle.HostileFiles.snapshot;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.bundle;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.bundleOf;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.context;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.deliver;
import static dev.vmonboard.core.bundle.LocalDirectoryTransportTest.workload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another user of the onboarding host against {@link LocalDirectoryTransport} and {@link
 * ArchiveTransport}: links planted at the output path and at its parents, directories they own or
 * can write, FIFOs and devices where the output goes, archives and bundle directories that look
 * like vmonboard's. Each refusal is checked against a byte-for-byte snapshot of the whole temp
 * tree: nothing outside vmonboard's own files changes, and a refused delivery changes nothing at
 * all. Runs as root in CI; "another user" is uid {@value HostileFiles#OTHER_UID}.
 */
class LocalOutputSafetyTest {

  private static final Target TARGET =
      Target.builder().host("offline").configDir("/tmp/istio-proxy").build();
  private static final Duration NO_HANG = Duration.ofSeconds(60);

  @TempDir Path temp;

  /** Another user's data (or the run user's own, elsewhere): must never change. */
  private Path victim;

  /** A directory everyone can write, with the sticky bit, like {@code /tmp}. */
  private Path shared;

  @BeforeEach
  void victimAndSharedDirectory() throws Exception {
    victim = Files.createDirectory(temp.resolve("victim"));
    Files.writeString(victim.resolve("data.txt"), "the victim's data\n");
    ArchiveTransport.singleWorkload(victim.resolve("other.tgz"))
        .deliver(
            bundleOf(WorkloadRef.of("vm-apps", "victim"), "victim"),
            TARGET,
            context(WorkloadRef.of("vm-apps", "victim"), Stage.DELIVER));
    shared = Files.createDirectory(temp.resolve("shared"));
    chmod(shared, 01777);
  }

  /** Runs {@code action}, which must be refused, and checks that nothing under temp changed. */
  private StageException refusedWithNothingChanged(Runnable action) {
    Map<String, String> before = snapshot(temp);
    StageException refused =
        assertTimeoutPreemptively(
            NO_HANG, () -> catchThrowableOfType(StageException.class, action::run));
    assertThat(refused).as("refused").isNotNull();
    Canary.assertAbsent(refused);
    assertThat(snapshot(temp)).isEqualTo(before);
    return refused;
  }

  private static void remove(Transport transport) {
    transport.remove(TARGET, context(workload(), Stage.REMOVE_BUNDLE));
  }

  /** --output-dir and the single-workload directory. */
  @Nested
  class Directory {

    @Test
    void anOutputDirectoryPlantedAsALinkIsRefused() throws IOException {
      Path out = plantLink(shared.resolve("out"), victim);
      LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(out);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining(out + " is a symbolic link that belongs to uid 65534");
      refusedWithNothingChanged(() -> remove(transport));
    }

    @Test
    void aLinkPlantedAtAParentIsRefused() throws IOException {
      Path parent = plantLink(shared.resolve("outputs"), victim);
      LocalDirectoryTransport transport =
          LocalDirectoryTransport.perWorkload(parent.resolve("out"));
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining("is a symbolic link that belongs to uid 65534");
      assertThat(victim.resolve("out")).doesNotExist();
    }

    @Test
    void theUsersOwnLinkIsFollowed() throws IOException {
      Path real = Files.createDirectory(temp.resolve("real"));
      LocalFiles.setMode(real, 0700);
      Path out = Files.createSymbolicLink(shared.resolve("out"), real);
      deliver(LocalDirectoryTransport.perWorkload(out), bundle("v1"));
      assertThat(real.resolve("vm-1.vm-apps/etc/sidecar.env")).hasContent("VERSION=v1\n");
    }

    @Test
    void aParentOthersCanWriteWithoutTheStickyBitIsRefused() throws Exception {
      Path open = Files.createDirectory(temp.resolve("open"));
      chmod(open, 0777);
      LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(open.resolve("out"));
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining(open + " is writable by other users without the sticky bit");
      Path groupWritable = Files.createDirectory(temp.resolve("group"));
      chmod(groupWritable, 0770);
      refusedWithNothingChanged(
          () ->
              deliver(
                  LocalDirectoryTransport.singleWorkload(groupWritable.resolve("b")),
                  bundle("v1")));
    }

    @Test
    void aParentOfAnotherUserIsRefused() throws IOException {
      Path theirs = giveToOtherUser(Files.createDirectory(temp.resolve("theirs")));
      LocalDirectoryTransport transport =
          LocalDirectoryTransport.singleWorkload(theirs.resolve("bundle"));
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining(theirs + " belongs to uid 65534");
    }

    @Test
    void aSharedStickyParentIsFineAndMissingDirectoriesAreCreatedOwnerOnly() throws IOException {
      Path out = shared.resolve("a/b/out");
      deliver(LocalDirectoryTransport.perWorkload(out), bundle("v1"));
      for (Path created : List.of(shared.resolve("a"), shared.resolve("a/b"), out)) {
        LocalFiles.Node node = LocalFiles.inspect(created).orElseThrow();
        assertThat(node.permissions()).as(created.toString()).isEqualTo(0700);
        assertThat(node.isUsers()).isTrue();
      }
      assertThat(out.resolve("vm-1.vm-apps/etc/sidecar.env")).hasContent("VERSION=v1\n");
    }

    @Test
    void anExistingOutputDirectoryWithAHostileModeOrOwnerIsRefused() throws Exception {
      Path out = Files.createDirectory(temp.resolve("out"));
      chmod(out, 01777);
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(LocalDirectoryTransport.perWorkload(out), bundle("v1"))))
          .hasMessageContaining(out + " is writable by other users");
      chmod(out, 0700);
      giveToOtherUser(out);
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(LocalDirectoryTransport.perWorkload(out), bundle("v1"))))
          .hasMessageContaining(out + " belongs to uid 65534, not to the user running vmonboard");
    }

    @Test
    void aWorkloadDirectoryPlantedAsALinkIsRefusedEvenTheUsersOwn() throws IOException {
      Path out = Files.createDirectory(temp.resolve("out"));
      LocalFiles.setMode(out, 0700);
      Files.createSymbolicLink(out.resolve("vm-1.vm-apps"), victim);
      LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(out);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining("is a symbolic link, not a bundle directory");
      refusedWithNothingChanged(() -> remove(transport));
    }

    @Test
    void aFifoOrADeviceWhereTheBundleGoesIsRefusedWithoutBlocking() throws Exception {
      Path fifo = HostileFiles.fifo(temp.resolve("fifo"));
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(LocalDirectoryTransport.singleWorkload(fifo), bundle("v1"))))
          .hasMessageContaining("is a FIFO (named pipe), not a bundle directory");
      Path device = HostileFiles.device(temp.resolve("device"));
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(LocalDirectoryTransport.singleWorkload(device), bundle("v1"))))
          .hasMessageContaining("is a character device");
    }

    @Test
    void aBundleDirectoryOfAnotherUserIsNeitherReplacedNorDeleted() throws IOException {
      Path directory = temp.resolve("bundle");
      LocalDirectoryTransport transport = LocalDirectoryTransport.singleWorkload(directory);
      deliver(transport, bundle("v1"));
      giveToOtherUser(directory);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v2"))))
          .hasMessageContaining("belongs to uid 65534");
      refusedWithNothingChanged(() -> remove(transport));
    }

    @Test
    void aLinkOrAnotherUsersFileInsideTheLayoutIsRefused() throws IOException {
      Path directory = temp.resolve("bundle");
      LocalDirectoryTransport transport = LocalDirectoryTransport.singleWorkload(directory);
      deliver(transport, bundle("v1"));
      Files.createSymbolicLink(directory.resolve("etc-certs"), victim);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v2"))))
          .hasMessageContaining("is not a bundle directory");
      refusedWithNothingChanged(() -> remove(transport));
      Files.delete(directory.resolve("etc-certs"));
      giveToOtherUser(directory.resolve(OfflineLayout.START_SCRIPT));
      refusedWithNothingChanged(() -> deliver(transport, bundle("v2")));
    }

    @Test
    void aDeliveryChangesNothingButItsOwnDirectory() throws IOException {
      Path out = shared.resolve("out");
      LocalDirectoryTransport transport = LocalDirectoryTransport.perWorkload(out);
      deliver(transport, bundle("v1"));
      Map<String, String> before = outside(snapshot(temp), "shared/out/vm-1.vm-apps");
      deliver(transport, bundle("v2"));
      remove(transport);
      assertThat(outside(snapshot(temp), "shared/out/vm-1.vm-apps")).isEqualTo(before);
      try (Stream<Path> left = Files.list(out)) {
        assertThat(left).isEmpty();
      }
    }
  }

  /** --output-file. */
  @Nested
  class Archive {

    @Test
    void anOutputFilePlantedAsALinkToAnotherArchiveIsNeverRead() throws IOException {
      Path planted = plantLink(shared.resolve("fleet.tgz"), victim.resolve("other.tgz"));
      ArchiveTransport transport = ArchiveTransport.perWorkload(planted);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining(planted + " is a symbolic link")
          .hasMessageContaining("was not opened");
      refusedWithNothingChanged(() -> remove(transport));
    }

    @Test
    void evenTheUsersOwnLinkAtTheArchivesNameIsRefused() throws IOException {
      Path link = Files.createSymbolicLink(temp.resolve("fleet.tgz"), victim.resolve("other.tgz"));
      refusedWithNothingChanged(() -> deliver(ArchiveTransport.perWorkload(link), bundle("v1")));
    }

    @Test
    void aFifoOrADeviceAsTheArchiveEndsInAnErrorNotAHang() throws Exception {
      Path fifo = HostileFiles.fifo(shared.resolve("fifo.tgz"));
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(ArchiveTransport.perWorkload(fifo), bundle("v1"))))
          .hasMessageContaining("is a FIFO (named pipe), not an archive vmonboard wrote");
      Path device = HostileFiles.device(temp.resolve("device.tgz"));
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(ArchiveTransport.perWorkload(device), bundle("v1"))))
          .hasMessageContaining("is a character device");
      refusedWithNothingChanged(() -> remove(ArchiveTransport.perWorkload(fifo)));
    }

    @Test
    void anArchiveOfAnotherUserIsNotAdoptedEvenWithTheMarker() throws IOException {
      Path archive = shared.resolve("fleet.tgz");
      deliver(ArchiveTransport.perWorkload(archive), bundleOf(WorkloadRef.of("x", "planted"), "p"));
      giveToOtherUser(archive);
      ArchiveTransport transport = ArchiveTransport.perWorkload(archive);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v1"))))
          .hasMessageContaining("belongs to uid 65534");
      refusedWithNothingChanged(() -> remove(transport));
    }

    @Test
    void anArchiveWithoutTheMarkerIsNotAdopted() throws Exception {
      Path archive = temp.resolve("fleet.tgz");
      Path content = Files.createDirectories(temp.resolve("content/etc"));
      Files.writeString(content.resolve("sidecar.env"), "PLANTED=1\n");
      Process tar =
          new ProcessBuilder(
                  "tar",
                  "-czf",
                  archive.toString(),
                  "-C",
                  temp.resolve("content").toString(),
                  "etc")
              .redirectErrorStream(true)
              .start();
      assertThat(tar.waitFor()).isZero();
      LocalFiles.setMode(archive, 0600);
      assertThat(
              refusedWithNothingChanged(
                  () -> deliver(ArchiveTransport.perWorkload(archive), bundle("v1"))))
          .hasMessageContaining("does not start with vmonboard's marker");
    }

    @Test
    void anArchiveWithASecondNameOrReadableByOthersIsNotAdopted() throws Exception {
      Path archive = temp.resolve("fleet.tgz");
      ArchiveTransport transport = ArchiveTransport.perWorkload(archive);
      deliver(transport, bundle("v1"));
      Path second = Files.createLink(victim.resolve("second-name.tgz"), archive);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v2"))))
          .hasMessageContaining("2 names");
      Files.delete(second);
      chmod(archive, 0644);
      assertThat(refusedWithNothingChanged(() -> deliver(transport, bundle("v2"))))
          .hasMessageContaining("mode 0644");
    }

    @Test
    void aParentOthersCanWriteOrALinkedParentIsRefused() throws Exception {
      Path open = Files.createDirectory(temp.resolve("open"));
      chmod(open, 0777);
      refusedWithNothingChanged(
          () -> deliver(ArchiveTransport.perWorkload(open.resolve("fleet.tgz")), bundle("v1")));
      Path linked = plantLink(shared.resolve("dir"), victim);
      refusedWithNothingChanged(
          () -> deliver(ArchiveTransport.perWorkload(linked.resolve("fleet.tgz")), bundle("v1")));
    }

    @Test
    void aFileAppearingAtTheNameWhileWritingIsLeftAlone() throws IOException {
      Path archive = shared.resolve("fleet.tgz");
      ArchiveTransport racing =
          new ArchiveTransport(
              archive,
              true,
              staging -> giveToOtherUser(Files.writeString(archive, "planted meanwhile")));
      StageException refused =
          catchThrowableOfType(StageException.class, () -> deliver(racing, bundle("v1")));
      assertThat(refused).hasMessageContaining("appeared while vmonboard was writing it");
      assertThat(archive).hasContent("planted meanwhile");
      try (Stream<Path> left = Files.list(shared)) {
        assertThat(left.map(path -> path.getFileName().toString())).containsExactly("fleet.tgz");
      }
    }

    @Test
    void anArchiveInASharedStickyDirectoryIsTheUsersOwnAndOwnerOnly() throws IOException {
      Path archive = shared.resolve("fleet.tgz");
      ArchiveTransport transport = ArchiveTransport.perWorkload(archive);
      Map<String, String> before = snapshot(temp);
      deliver(transport, bundle("v1"));
      deliver(transport, bundleOf(WorkloadRef.of("vm-apps", "vm-2"), "v2"));
      LocalFiles.Node node = LocalFiles.inspect(archive).orElseThrow();
      assertThat(node.isUsers()).isTrue();
      assertThat(node.permissions()).isEqualTo(0600);
      assertThat(ArchiveTransport.read(archive).get(0).path()).isEqualTo(ArchiveTransport.MARKER);
      remove(transport);
      transport.remove(TARGET, context(WorkloadRef.of("vm-apps", "vm-2"), Stage.REMOVE_BUNDLE));
      assertThat(snapshot(temp)).isEqualTo(before);
    }
  }

  private static Map<String, String> outside(Map<String, String> snapshot, String own) {
    Map<String, String> kept = new java.util.TreeMap<>(snapshot);
    kept.keySet().removeIf(path -> path.equals(own) || path.startsWith(own + "/"));
    return kept;
  }
}
