package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.WorkloadRef;
import java.io.IOException;
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
    Path directory = directoryOf(bundle.workload());
    synchronized (LocalFiles.lock(directory)) {
      Path staging = null;
      try {
        refuseForeign(directory);
        OfflineLayout.refuseOther(
            holder(directory), bundle.workload(), directory, "LocalDirectoryTransport.perWorkload");
        Files.createDirectories(directory.getParent());
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
        LOG.debug("wrote the bundle of {} to {}", bundle.workload(), directory);
      } catch (IOException e) {
        throw LocalFiles.failure("writing the bundle to", directory, e);
      } finally {
        if (staging != null) {
          LocalFiles.deleteTreeQuietly(staging);
        }
      }
    }
  }

  @Override
  public void remove(Target target, StageContext context) {
    Path directory = directoryOf(context.workload());
    synchronized (LocalFiles.lock(directory)) {
      try {
        refuseForeign(directory);
        Optional<WorkloadRef> holder = holder(directory);
        if (holder.isPresent() && !holder.get().equals(context.workload())) {
          LOG.debug(
              "{} holds {}, not {}: nothing to remove", directory, holder, context.workload());
          return;
        }
        LocalFiles.deleteTree(directory);
      } catch (IOException e) {
        throw LocalFiles.failure("deleting", directory, e);
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

  /** The workload whose layout {@code directory} holds, from its start script. */
  private static Optional<WorkloadRef> holder(Path directory) throws IOException {
    Path script = directory.resolve(OfflineLayout.START_SCRIPT);
    if (!Files.isRegularFile(script, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    return OfflineLayout.workloadOf(Files.readString(script, StandardCharsets.UTF_8));
  }

  /**
   * Refuses to replace or delete {@code directory} when it holds anything but an offline layout
   * ({@code etc/} and {@code bin/start-istio-proxy.sh}): it is not ours.
   */
  private static void refuseForeign(Path directory) throws IOException {
    if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    boolean ours = Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS);
    if (ours) {
      try (Stream<Path> children = Files.list(directory)) {
        ours = children.allMatch(LocalDirectoryTransport::isLayoutPart);
      }
    }
    if (!ours) {
      throw StageException.permanent(
          directory + " exists and is not a bundle directory (etc/ and bin/ only)",
          "choose an empty or missing directory: the transport replaces and deletes it whole");
    }
  }

  private static boolean isLayoutPart(Path child) {
    String name = child.getFileName().toString();
    boolean directory = Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS);
    if (name.equals(OfflineLayout.ETC) || OfflineLayout.isStateDirectory(name)) {
      return directory;
    }
    if (!name.equals(OfflineLayout.BIN) || !directory) {
      return false;
    }
    try (Stream<Path> scripts = Files.list(child)) {
      return scripts.allMatch(
          script -> OfflineLayout.START_SCRIPT.endsWith("/" + script.getFileName()));
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
