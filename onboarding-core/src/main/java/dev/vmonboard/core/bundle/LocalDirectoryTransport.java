package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Transport} that writes bundles to a directory on this machine instead of a VM, in the
 * offline layout: {@code etc/} with the bundle's files (modes kept, the token 0600) and {@code
 * bin/start-istio-proxy.sh}, which starts the proxy from the {@code etc/} next to it wherever the
 * directory is copied to. Every value in the script is shell-quoted.
 *
 * <p>{@link #perWorkload(Path)} gives each workload a sub-directory {@code name.namespace} of the
 * root (for fleets); {@link #singleWorkload(Path)} lays one workload out in the directory itself.
 * Either way the workload's directory belongs to the transport: a delivery builds the new one next
 * to it and swaps it in with renames, so a failure leaves the previous one as it was (or, if the
 * process dies between the two renames, a hidden {@code .NAME.old-*} sibling holds it); {@link
 * #remove} deletes it. The start script keeps the agent's certificates in {@code etc-certs/} beside
 * {@code etc/}: a delivery carries that directory over into the new layout, so a proxy started from
 * the layout in place keeps its renewed certificates across deliveries. A directory holding
 * anything else is never replaced nor deleted: the delivery fails instead. The {@link Target} only
 * names the VM and plays no part here.
 *
 * <p>Every path follows {@link LocalFiles}' rule: the root of {@link #perWorkload} must belong to
 * the user running vmonboard and be writable by no one else (it is created 0700 when missing); the
 * directories above it, or above a {@link #singleWorkload} directory, must belong to the user or
 * root and be writable by others only with the sticky bit; a link on the way is followed only when
 * the user or root made it. A workload's directory, and what is at its top (etc/, bin/, the start
 * script, the certificates' directory), is replaced or deleted only when it is a real directory or
 * file of the user's that others cannot write: a link, a FIFO, a device or another user's directory
 * there is refused and left alone.
 *
 * <p>Thread-safe; deliveries to the same directory take turns.
 */
public final class LocalDirectoryTransport implements Transport {

  private static final Logger LOG = LoggerFactory.getLogger(LocalDirectoryTransport.class);

  private final Path root;
  private final boolean perWorkload;

  private final LocalFiles.Step beforeReplace;

  LocalDirectoryTransport(Path root, boolean perWorkload, LocalFiles.Step beforeReplace) {
    this.root = root.toAbsolutePath().normalize();
    this.perWorkload = perWorkload;
    this.beforeReplace = beforeReplace;
  }

  /**
   * Each workload in its own sub-directory {@code <root>/<name>.<namespace>}; {@code root} is
   * created when missing.
   */
  public static LocalDirectoryTransport perWorkload(Path root) {
    return new LocalDirectoryTransport(root, true, LocalFiles.Step.NONE);
  }

  /**
   * One workload laid out in {@code directory} itself ({@code directory/etc}, {@code
   * directory/bin}). The directory is replaced whole on delivery and deleted on removal; while it
   * holds one workload's bundle, a delivery for another is refused (and removing another's is a
   * no-op).
   */
  public static LocalDirectoryTransport singleWorkload(Path directory) {
    return new LocalDirectoryTransport(directory, false, LocalFiles.Step.NONE);
  }

  /** The directory that holds (or would hold) {@code workload}'s layout. */
  public Path directoryOf(WorkloadRef workload) {
    return perWorkload ? root.resolve(OfflineLayout.directoryName(workload)) : root;
  }

  /** No: bundles are written on this machine. */
  @Override
  public boolean needsHost() {
    return false;
  }

  @Override
  public void deliver(Bundle bundle, Target target, StageContext context) {
    List<OfflineLayout.Entry> entries = OfflineLayout.entries(bundle);
    Path configured = directoryOf(bundle.workload());
    synchronized (LocalFiles.lock(configured)) {
      Path staging = null;
      try {
        Path directory = place(configured, true).orElseThrow();
        refuseForeign(directory);
        OfflineLayout.refuseOther(
            holder(directory),
            bundle.workload(),
            configured,
            "LocalDirectoryTransport.perWorkload");
        staging =
            Files.createTempDirectory(
                directory.getParent(), "." + directory.getFileName() + ".tmp-");
        for (OfflineLayout.Entry entry : entries) {
          Path path = staging.resolve(entry.path());
          if (entry.directory()) {
            LocalFiles.createDirectory(path, entry.mode());
          } else {
            LocalFiles.writeFile(path, entry.content(), entry.mode());
          }
        }
        LocalFiles.setMode(staging, OfflineLayout.DIRECTORY_MODE);
        beforeReplace.run(staging);
        replace(directory, staging, OfflineLayout.stateDirectories(bundle));
        staging = null;
        LOG.debug("wrote the bundle of {} to {}", bundle.workload(), configured);
      } catch (IOException e) {
        throw LocalFiles.failure("writing the bundle to", configured, e);
      } finally {
        if (staging != null) {
          LocalFiles.deleteTreeQuietly(staging);
        }
      }
    }
  }

  @Override
  public void remove(Target target, StageContext context) {
    Path configured = directoryOf(context.workload());
    synchronized (LocalFiles.lock(configured)) {
      try {
        Optional<Path> place = place(configured, false);
        if (place.isEmpty()) {
          return;
        }
        Path directory = place.get();
        refuseForeign(directory);
        Optional<WorkloadRef> holder = holder(directory);
        if (holder.isPresent() && !holder.get().equals(context.workload())) {
          LOG.debug(
              "{} holds {}, not {}: nothing to remove", directory, holder, context.workload());
          return;
        }
        LocalFiles.deleteTree(directory);
      } catch (IOException e) {
        throw LocalFiles.failure("deleting", configured, e);
      }
    }
  }

  @Override
  public List<String> describeDelivery(Bundle bundle, Target target) {
    return OfflineLayout.describe(bundle, "directory " + directoryOf(bundle.workload()));
  }

  @Override
  public List<String> describeRemoval(Target target) {
    return List.of(
        "delete the bundle's directory "
            + (perWorkload ? root.resolve("<name>.<namespace>") : root));
  }

  @Override
  public String toString() {
    return "LocalDirectoryTransport{" + root + (perWorkload ? ", per workload}" : "}");
  }

  /**
   * Where the layout of {@code configured} goes, as a path without links: the directories above it
   * checked (and created when {@code create}; empty when one is missing otherwise). For {@link
   * #perWorkload}, the root must be the user's own.
   */
  private Optional<Path> place(Path configured, boolean create) throws IOException {
    Optional<Path> parent =
        perWorkload
            ? LocalFiles.trustedDirectory(root, create, true)
            : LocalFiles.trustedDirectory(configured.getParent(), create, false);
    return parent.map(directory -> directory.resolve(configured.getFileName()));
  }

  /**
   * The workload whose layout {@code directory} holds, from its start script ({@link
   * #refuseForeign} checked that it is the user's own regular file, if there).
   */
  private static Optional<WorkloadRef> holder(Path directory) throws IOException {
    Optional<LocalFiles.Node> script =
        LocalFiles.inspect(directory.resolve(OfflineLayout.START_SCRIPT));
    if (script.isEmpty() || !script.get().isRegularFile()) {
      return Optional.empty();
    }
    try (InputStream in = LocalFiles.openChecked(script.get())) {
      return OfflineLayout.workloadOf(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /**
   * Refuses to replace or delete {@code directory} when it is not the user's own directory (a link,
   * a FIFO, another user's, one others can write), or holds anything but an offline layout ({@code
   * etc/}, the certificates' {@code etc-*}/ and {@code bin/start-istio-proxy.sh}, each the user's
   * own and of the right type): it is not ours.
   */
  private static void refuseForeign(Path directory) throws IOException {
    Optional<LocalFiles.Node> node = LocalFiles.inspect(directory);
    if (node.isEmpty()) {
      return;
    }
    if (!node.get().isDirectory()) {
      throw LocalFiles.refused(
          directory, "is " + node.get().type() + ", not a bundle directory: it was left alone");
    }
    LocalFiles.checkOwn(node.get());
    boolean ours;
    try (Stream<Path> children = Files.list(directory)) {
      ours = children.allMatch(LocalDirectoryTransport::isLayoutPart);
    }
    if (!ours) {
      throw StageException.permanent(
          directory + " exists and is not a bundle directory (etc/ and bin/ only)",
          "choose an empty or missing directory: the transport replaces and deletes it whole");
    }
  }

  private static boolean isLayoutPart(Path child) {
    String name = child.getFileName().toString();
    if (name.equals(OfflineLayout.ETC) || OfflineLayout.isStateDirectory(name)) {
      return isOwn(child, true);
    }
    if (!name.equals(OfflineLayout.BIN) || !isOwn(child, true)) {
      return false;
    }
    try (Stream<Path> scripts = Files.list(child)) {
      return scripts.allMatch(
          script ->
              OfflineLayout.START_SCRIPT.endsWith("/" + script.getFileName())
                  && isOwn(script, false));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Whether {@code path} is a directory (or a regular file) of the user's that no one else can
   * write: never a link, a FIFO or a device.
   */
  private static boolean isOwn(Path path, boolean directory) {
    try {
      Optional<LocalFiles.Node> node = LocalFiles.inspect(path);
      return node.isPresent()
          && (directory ? node.get().isDirectory() : node.get().isRegularFile())
          && node.get().isUsers()
          && (node.get().permissions() & 0022) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Puts {@code staging} at {@code directory}. When a previous layout is there, its state
   * directories ({@code stateNames}: the agent's certificates, written when the proxy ran from this
   * layout) move into {@code staging} first, the old layout is renamed aside, {@code staging}
   * renamed into place and the old one deleted. A failed rename puts everything back.
   */
  private static void replace(Path directory, Path staging, List<String> stateNames)
      throws IOException {
    if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
      LocalFiles.moveAtomically(staging, directory);
      return;
    }
    List<String> carried = new ArrayList<>();
    try {
      for (String name : stateNames) {
        if (Files.isDirectory(directory.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
          LocalFiles.moveAtomically(directory.resolve(name), staging.resolve(name));
          carried.add(name);
        }
      }
      Path old =
          Files.createTempDirectory(directory.getParent(), "." + directory.getFileName() + ".old-");
      LocalFiles.moveAtomically(directory, old.resolve("previous"));
      try {
        LocalFiles.moveAtomically(staging, directory);
      } catch (IOException e) {
        LocalFiles.moveAtomically(old.resolve("previous"), directory);
        LocalFiles.deleteTreeQuietly(old);
        throw e;
      }
      LocalFiles.deleteTreeQuietly(old);
    } catch (IOException e) {
      for (String name : carried) {
        if (Files.exists(staging.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
          LocalFiles.moveAtomically(staging.resolve(name), directory.resolve(name));
        }
      }
      throw e;
    }
  }
}
