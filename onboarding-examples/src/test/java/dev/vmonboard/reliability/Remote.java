package dev.vmonboard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.ssh.EmbeddedVm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the remote side holds, to prove that a refused run changed nothing there: every file of a
 * VM's filesystem with its size and mode, the commands the VM received, and the requests that
 * changed something on the API server.
 */
final class Remote {

  private Remote() {}

  /** Path (relative to the VM's filesystem) to {@code size mode} of every file and directory. */
  static Map<String, String> files(Path root) {
    Map<String, String> files = new TreeMap<>();
    if (!Files.exists(root)) {
      return files;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path path : (Iterable<Path>) all::iterator) {
        files.put(
            root.relativize(path).toString(),
            (Files.isDirectory(path) ? "dir" : Files.size(path) + "B") + " " + Modes.of(path));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** Path (relative to {@code dir}) to the SHA-256 of every file below it: what a VM holds. */
  static Map<String, String> contents(Path dir) {
    Map<String, String> contents = new TreeMap<>();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path path : (Iterable<Path>) all::iterator) {
        if (Files.isRegularFile(path)) {
          byte[] digest =
              java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path));
          contents.put(
              dir.relativize(path) + " " + Modes.of(path),
              java.util.HexFormat.of().formatHex(digest));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return contents;
  }

  /**
   * What a delivery left behind for {@code configDir}, if anything: a sibling of its other than the
   * state directory ({@code .NAME.vmonboard}), and in the state directory anything but the list of
   * generations, the records of made directories and the kept bundle (a temporary directory, a
   * lock).
   */
  static List<String> litter(Path configDir) {
    String state = "." + configDir.getFileName() + ".vmonboard";
    List<String> litter = new java.util.ArrayList<>();
    try (Stream<Path> siblings = Files.list(configDir.getParent())) {
      siblings
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(state) && !n.equals(state))
          .forEach(litter::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path stateDir = configDir.resolveSibling(state);
    if (Files.isDirectory(stateDir)) {
      try (Stream<Path> inside = Files.list(stateDir)) {
        inside
            .map(p -> p.getFileName().toString())
            .filter(n -> !List.of("gens", "dirs", "previous").contains(n))
            .map(n -> state + "/" + n)
            .forEach(litter::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return litter;
  }

  /** How many containers the VM's runtime was asked to run. */
  static long containerRuns(EmbeddedVm vm) {
    return vm.toolCalls().stream()
        .filter(call -> call.size() > 1 && call.get(1).equals("run"))
        .count();
  }

  /** The requests that can change the cluster (anything but GET), received since {@code from}. */
  static List<String> writes(EmbeddedIstioCluster cluster, int from) {
    List<String> log = cluster.requestLog();
    return log.subList(Math.min(from, log.size()), log.size()).stream()
        .filter(line -> !line.startsWith("GET "))
        .toList();
  }

  /** A VM's state at one moment, to compare with later. */
  record VmState(int connections, List<String> commands, Map<String, String> files) {
    static VmState of(EmbeddedVm vm) {
      return new VmState(vm.connectionsAccepted(), vm.receivedCommands(), Remote.files(vm.root()));
    }

    void assertUnchanged(EmbeddedVm vm) {
      assertThat(vm.connectionsAccepted()).as("SSH connections to the VM").isEqualTo(connections);
      assertThat(vm.receivedCommands()).as("commands the VM received").isEqualTo(commands);
      assertThat(Remote.files(vm.root())).as("the VM's files").isEqualTo(files);
    }
  }
}
