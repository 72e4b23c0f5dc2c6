package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Transport} that writes bundles into a {@code .tgz} on this machine, in the same offline
 * layout as {@link LocalDirectoryTransport} and with the same modes: {@code etc/} with the bundle's
 * files (the token 0600) and {@code bin/start-istio-proxy.sh} (0755). Unpack it with {@code tar
 * -xzpf} (as root, files belong to root).
 *
 * <p>{@link #perWorkload(Path)} keeps each workload under {@code name.namespace/} in one archive;
 * {@link #singleWorkload(Path)} puts one workload's layout at the archive's root. The archive file
 * is owner-only (0600: it holds tokens). Every change writes a new archive under an unpredictable
 * name next to it and renames it into place, so a failure leaves the previous archive as it was.
 *
 * <p>The archive's first entry is the marker {@code .vmonboard-archive}. An existing file is read
 * (to keep the other workloads' entries) only when it is provably this transport's: a regular file,
 * not a link, with one name, owned by the user running vmonboard, owner-only, marker first.
 * Anything else there (a link, say to another archive, a FIFO, a device, another user's file, an
 * archive without the marker) is refused with an error before it is opened, and left as it was. The
 * directories on the way follow {@link LocalFiles}' rule (no directory that others can write,
 * unless sticky; no link that others could have planted). With several workloads each delivery
 * rewrites the whole archive (its cost grows with the fleet: fine for hundreds of VMs; for more,
 * prefer {@link LocalDirectoryTransport#perWorkload(Path)} and archive the directory once). {@link
 * #remove} takes the workload out, and deletes the archive when nothing is left.
 *
 * <p>Thread-safe; changes to the same archive take turns.
 */
public final class ArchiveTransport implements Transport {

  private static final Logger LOG = LoggerFactory.getLogger(ArchiveTransport.class);

  /** The first entry of every archive this transport writes: how it knows its own. */
  static final String MARKER = ".vmonboard-archive";

  private static final byte[] MARKER_CONTENT =
      Inputs.utf8(
          "Written by vmonboard's ArchiveTransport, which replaces and deletes this archive.\n");
  private static final int MARKER_MODE = 0644;
  private static final int ARCHIVE_MODE = 0600;
  private static final int REGULAR_FILE = 0100000;
  private static final int DIRECTORY = 040000;

  private final Path archive;
  private final boolean perWorkload;

  private final LocalFiles.Step beforeReplace;

  ArchiveTransport(Path archive, boolean perWorkload, LocalFiles.Step beforeReplace) {
    this.archive = archive.toAbsolutePath().normalize();
    this.perWorkload = perWorkload;
    this.beforeReplace = beforeReplace;
  }

  /** Every workload under {@code name.namespace/} in the one archive {@code archive}. */
  public static ArchiveTransport perWorkload(Path archive) {
    return new ArchiveTransport(archive, true, LocalFiles.Step.NONE);
  }

  /**
   * One workload's layout at the root of {@code archive}; while it holds one workload's bundle, a
   * delivery for another is refused (and removing another's is a no-op).
   */
  public static ArchiveTransport singleWorkload(Path archive) {
    return new ArchiveTransport(archive, false, LocalFiles.Step.NONE);
  }

  /** The archive file. */
  public Path archive() {
    return archive;
  }

  /** The prefix of {@code workload}'s entries in the archive: empty, or {@code name.namespace/}. */
  public String prefixOf(WorkloadRef workload) {
    return perWorkload ? OfflineLayout.directoryName(workload) + "/" : "";
  }

  /** No: bundles are written on this machine. */
  @Override
  public boolean needsHost() {
    return false;
  }

  @Override
  public void deliver(Bundle bundle, Target target, StageContext context) {
    List<OfflineLayout.Entry> layout = OfflineLayout.entries(bundle);
    String prefix = prefixOf(bundle.workload());
    synchronized (LocalFiles.lock(archive)) {
      Place place = place(true).orElseThrow();
      List<OfflineLayout.Entry> current = current(place);
      if (!perWorkload) {
        OfflineLayout.refuseOther(
            holder(current), bundle.workload(), archive, "ArchiveTransport.perWorkload");
      }
      List<OfflineLayout.Entry> entries = outside(current, prefix);
      if (!prefix.isEmpty()) {
        entries.add(
            new OfflineLayout.Entry(
                prefix.substring(0, prefix.length() - 1), OfflineLayout.DIRECTORY_MODE, null));
      }
      for (OfflineLayout.Entry entry : layout) {
        entries.add(new OfflineLayout.Entry(prefix + entry.path(), entry.mode(), entry.content()));
      }
      write(place, entries);
      LOG.debug("wrote the bundle of {} to {}", bundle.workload(), archive);
    }
  }

  @Override
  public void remove(Target target, StageContext context) {
    synchronized (LocalFiles.lock(archive)) {
      Optional<Place> place = place(false);
      if (place.isEmpty()) {
        return;
      }
      List<OfflineLayout.Entry> current = current(place.get());
      Optional<WorkloadRef> holder = holder(current);
      if (current.isEmpty()
          || (!perWorkload && holder.isPresent() && !holder.get().equals(context.workload()))) {
        return;
      }
      List<OfflineLayout.Entry> kept = outside(current, prefixOf(context.workload()));
      if (kept.size() == current.size()) {
        return;
      }
      if (kept.isEmpty()) {
        try {
          Files.delete(place.get().path());
        } catch (IOException e) {
          throw LocalFiles.failure("deleting", archive, e);
        }
      } else {
        write(place.get(), kept);
      }
    }
  }

  @Override
  public List<String> describeDelivery(Bundle bundle, Target target) {
    String prefix = prefixOf(bundle.workload());
    return OfflineLayout.describe(
        bundle, "archive " + archive + (prefix.isEmpty() ? "" : " under " + prefix));
  }

  @Override
  public List<String> describeRemoval(Target target) {
    return List.of(
        perWorkload
            ? "take the workload's entries out of " + archive
            : "delete the archive " + archive);
  }

  @Override
  public String toString() {
    return "ArchiveTransport{" + archive + (perWorkload ? ", per workload}" : "}");
  }

  /**
   * Where the archive is: its directory checked (and created when {@code create}; empty when it is
   * missing otherwise), and what is at its name now.
   */
  private Optional<Place> place(boolean create) {
    try {
      Optional<Path> directory = LocalFiles.trustedDirectory(archive.getParent(), create, false);
      if (directory.isEmpty()) {
        return Optional.empty();
      }
      Path path = directory.get().resolve(archive.getFileName());
      return Optional.of(new Place(path, LocalFiles.inspect(path)));
    } catch (IOException e) {
      throw LocalFiles.failure("checking the directories of", archive, e);
    }
  }

  /** The archive's path without links, and what is there now (nothing, or a checked node). */
  private record Place(Path path, Optional<LocalFiles.Node> existing) {}

  /**
   * The entries of the archive as it is now, without the marker; none when there is no archive.
   *
   * @throws StageException when the file there is not provably an archive this transport wrote;
   *     then it was not opened, or only read and left alone
   */
  private List<OfflineLayout.Entry> current(Place place) {
    if (place.existing().isEmpty()) {
      return List.of();
    }
    LocalFiles.Node node = place.existing().get();
    if (!node.isRegularFile()) {
      throw LocalFiles.refused(
          archive, "is " + node.type() + ", not an archive vmonboard wrote: it was not opened");
    }
    LocalFiles.checkOwn(node);
    if ((node.permissions() & 0077) != 0 || node.links() != 1) {
      throw LocalFiles.refused(
          archive,
          "is not owner-only with a single name ("
              + node.ownerAndMode()
              + ", "
              + node.links()
              + " names), as every archive vmonboard writes is: it was not opened");
    }
    List<OfflineLayout.Entry> entries;
    try (InputStream file = LocalFiles.openChecked(node)) {
      entries = read(file);
    } catch (IOException e) {
      throw LocalFiles.failure("reading", archive, e);
    }
    if (entries.isEmpty()
        || !entries.get(0).path().equals(MARKER)
        || !Arrays.equals(entries.get(0).content(), MARKER_CONTENT)) {
      throw LocalFiles.refused(
          archive,
          "does not start with vmonboard's marker "
              + MARKER
              + ": it is not an archive this transport wrote, so nothing of it is carried over");
    }
    List<OfflineLayout.Entry> rest = entries.subList(1, entries.size());
    for (OfflineLayout.Entry entry : rest) {
      if (!isOurs(entry.path())) {
        throw StageException.permanent(
            archive + " holds " + entry.path() + ", which is not part of a bundle layout",
            "choose another file: the transport replaces and deletes its archive");
      }
    }
    return new ArrayList<>(rest);
  }

  private boolean isOurs(String path) {
    if (!perWorkload) {
      return OfflineLayout.isLayoutPath(path);
    }
    int slash = path.indexOf('/');
    return slash < 0 || OfflineLayout.isLayoutPath(path.substring(slash + 1));
  }

  /** The workload whose layout is at the root of an archive, from its start script. */
  private static Optional<WorkloadRef> holder(List<OfflineLayout.Entry> entries) {
    for (OfflineLayout.Entry entry : entries) {
      if (entry.path().equals(OfflineLayout.START_SCRIPT) && !entry.directory()) {
        return OfflineLayout.workloadOf(new String(entry.content(), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  /** The entries not under {@code prefix} (with an empty prefix: none). */
  private static List<OfflineLayout.Entry> outside(
      List<OfflineLayout.Entry> entries, String prefix) {
    List<OfflineLayout.Entry> kept = new ArrayList<>();
    if (prefix.isEmpty()) {
      return kept;
    }
    String directory = prefix.substring(0, prefix.length() - 1);
    for (OfflineLayout.Entry entry : entries) {
      if (!entry.path().equals(directory) && !entry.path().startsWith(prefix)) {
        kept.add(entry);
      }
    }
    return kept;
  }

  /**
   * Writes the marker and {@code entries} to a new archive next to {@code place} and renames it
   * there (over the previous archive, which {@link #current} checked, or to a name still free).
   */
  private void write(Place place, List<OfflineLayout.Entry> entries) {
    Path staging = null;
    List<OfflineLayout.Entry> all = new ArrayList<>();
    all.add(new OfflineLayout.Entry(MARKER, MARKER_MODE, MARKER_CONTENT));
    all.addAll(entries);
    try {
      staging =
          LocalFiles.createTempFile(
              place.path().getParent(), "." + archive.getFileName() + ".tmp-");
      LocalFiles.setMode(staging, ARCHIVE_MODE);
      Instant now = Instant.now();
      try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(staging));
          TarArchiveOutputStream tar =
              new TarArchiveOutputStream(new GzipCompressorOutputStream(file))) {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (OfflineLayout.Entry entry : all) {
          TarArchiveEntry tarEntry =
              new TarArchiveEntry(entry.directory() ? entry.path() + "/" : entry.path());
          tarEntry.setMode((entry.directory() ? DIRECTORY : REGULAR_FILE) | entry.mode());
          tarEntry.setUserId(0);
          tarEntry.setGroupId(0);
          tarEntry.setUserName("root");
          tarEntry.setGroupName("root");
          tarEntry.setModTime(now.toEpochMilli());
          if (!entry.directory()) {
            tarEntry.setSize(entry.content().length);
          }
          tar.putArchiveEntry(tarEntry);
          if (!entry.directory()) {
            tar.write(entry.content());
          }
          tar.closeArchiveEntry();
        }
        tar.finish();
      }
      beforeReplace.run(staging);
      LocalFiles.publishFile(staging, place.path(), place.existing().isPresent());
      staging = null;
    } catch (IOException e) {
      throw LocalFiles.failure("writing", archive, e);
    } finally {
      if (staging != null) {
        LocalFiles.deleteQuietly(staging);
      }
    }
  }

  /** The entries of the archive at {@code path}, in order (the marker first). */
  static List<OfflineLayout.Entry> read(Path path) throws IOException {
    try (InputStream file = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
      return read(file);
    }
  }

  /** The entries of the archive {@code in} holds, in order. */
  private static List<OfflineLayout.Entry> read(InputStream in) throws IOException {
    List<OfflineLayout.Entry> entries = new ArrayList<>();
    try (InputStream file = new BufferedInputStream(in);
        TarArchiveInputStream tar =
            new TarArchiveInputStream(new GzipCompressorInputStream(file))) {
      for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
        String name = entry.getName();
        if (entry.isDirectory()) {
          entries.add(
              new OfflineLayout.Entry(
                  name.endsWith("/") ? name.substring(0, name.length() - 1) : name,
                  entry.getMode() & 07777,
                  null));
        } else {
          entries.add(new OfflineLayout.Entry(name, entry.getMode() & 07777, tar.readAllBytes()));
        }
      }
    }
    return entries;
  }
}
