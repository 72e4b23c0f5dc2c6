package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
 * is owner-only (0600: it holds tokens). Every change writes a new archive next to it and renames
 * it into place, so a failure leaves the previous archive as it was. With several workloads each
 * delivery rewrites the whole archive (its cost grows with the fleet: fine for hundreds of VMs; for
 * more, prefer {@link LocalDirectoryTransport#perWorkload(Path)} and archive the directory once).
 * {@link #remove} takes the workload out, and deletes the archive when nothing is left.
 *
 * <p>Thread-safe; changes to the same archive take turns.
 */
public final class ArchiveTransport implements Transport {

  private static final Logger LOG = LoggerFactory.getLogger(ArchiveTransport.class);

  private static final int ARCHIVE_MODE = 0600;
  private static final int REGULAR_FILE = 0100000;
  private static final int DIRECTORY = 040000;

  private final Path archive;
  private final boolean perWorkload;
  private final Occupant occupant = new Occupant();

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
   * One workload's layout at the root of {@code archive}; a delivery for a second workload is
   * refused.
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

  @Override
  public void deliver(Bundle bundle, Target target, StageContext context) {
    if (!perWorkload) {
      occupant.claim(bundle.workload(), archive, "ArchiveTransport.perWorkload");
    }
    List<OfflineLayout.Entry> layout = OfflineLayout.entries(bundle);
    String prefix = prefixOf(bundle.workload());
    synchronized (LocalFiles.lock(archive)) {
      List<OfflineLayout.Entry> entries = keptEntries(prefix);
      if (!prefix.isEmpty()) {
        entries.add(
            new OfflineLayout.Entry(
                prefix.substring(0, prefix.length() - 1), OfflineLayout.DIRECTORY_MODE, null));
      }
      for (OfflineLayout.Entry entry : layout) {
        entries.add(new OfflineLayout.Entry(prefix + entry.path(), entry.mode(), entry.content()));
      }
      write(entries);
      LOG.debug("wrote the bundle of {} to {}", bundle.workload(), archive);
    }
  }

  @Override
  public void remove(Target target, StageContext context) {
    synchronized (LocalFiles.lock(archive)) {
      if (!Files.exists(archive)) {
        return;
      }
      List<OfflineLayout.Entry> kept = keptEntries(prefixOf(context.workload()));
      try {
        if (kept.isEmpty()) {
          Files.delete(archive);
        } else {
          write(kept);
        }
      } catch (IOException e) {
        throw LocalFiles.failure("deleting", archive, e);
      }
    }
    occupant.release(context.workload());
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
   * The entries of the current archive that do not belong to {@code prefix} (with an empty prefix:
   * none, the archive holds one workload).
   */
  private List<OfflineLayout.Entry> keptEntries(String prefix) {
    List<OfflineLayout.Entry> kept = new ArrayList<>();
    if (prefix.isEmpty() || !Files.exists(archive)) {
      return kept;
    }
    String directory = prefix.substring(0, prefix.length() - 1);
    try {
      for (OfflineLayout.Entry entry : read(archive)) {
        if (!entry.path().equals(directory) && !entry.path().startsWith(prefix)) {
          kept.add(entry);
        }
      }
    } catch (IOException e) {
      throw LocalFiles.failure("reading", archive, e);
    }
    return kept;
  }

  /** Writes {@code entries} to a new archive and renames it over the old one. */
  private void write(List<OfflineLayout.Entry> entries) {
    Path staging = null;
    try {
      Files.createDirectories(archive.getParent());
      staging =
          Files.createTempFile(archive.getParent(), "." + archive.getFileName() + ".tmp-", "");
      LocalFiles.setMode(staging, ARCHIVE_MODE);
      Instant now = Instant.now();
      try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(staging));
          TarArchiveOutputStream tar =
              new TarArchiveOutputStream(new GzipCompressorOutputStream(file))) {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (OfflineLayout.Entry entry : entries) {
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
      LocalFiles.moveAtomically(staging, archive);
      staging = null;
    } catch (IOException e) {
      throw LocalFiles.failure("writing", archive, e);
    } finally {
      if (staging != null) {
        LocalFiles.deleteTreeQuietly(staging);
      }
    }
  }

  /** The entries of the archive at {@code path}, in order. */
  static List<OfflineLayout.Entry> read(Path path) throws IOException {
    List<OfflineLayout.Entry> entries = new ArrayList<>();
    try (InputStream file = new BufferedInputStream(Files.newInputStream(path));
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
