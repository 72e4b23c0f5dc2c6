package dev.vmonboard.ssh;

import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.testing.TransportContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The core's Transport contract, run against SshTransport and an embedded VM. */
class SshTransportContractTest extends TransportContract {

  @TempDir static Path dir;
  static TestVm vm;

  @BeforeAll
  static void start() throws IOException {
    vm = TestVm.start(dir);
  }

  @AfterAll
  static void stop() {
    vm.close();
  }

  @Override
  protected Transport transport() {
    return SshTransport.using(vm.connector);
  }

  @Override
  protected boolean keepsPrevious() {
    return true;
  }

  @Override
  protected Target newTarget() {
    return vm.newTarget();
  }

  @Override
  protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
    return readDirectory(Path.of(target.configDir()));
  }

  /** The bundle files a config directory holds (without the marker), or empty if none. */
  static Optional<Map<String, DeliveredFile>> readDirectory(Path root) {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    Map<String, DeliveredFile> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path file : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(file) && !file.getFileName().toString().equals(".vmonboard")) {
          files.put(
              root.relativize(file).toString(),
              new DeliveredFile(TestVm.mode(file), Files.readAllBytes(file)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Optional.of(files);
  }
}
