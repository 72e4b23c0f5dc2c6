package dev.vmonboard.ssh;

import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.WorkloadRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link EmbeddedVm} with a client key, a known_hosts file and a connector that trusts it
 * strictly: what most SSH tests need.
 */
final class TestVm implements AutoCloseable {

  final Path dir;
  final TestKeys.Key key;
  final EmbeddedVm vm;
  final Path knownHosts;
  final SshConnector connector;
  private final AtomicInteger targets = new AtomicInteger();

  TestVm(Path dir, EmbeddedVm.HttpClient http) throws IOException {
    this.dir = dir;
    this.key = TestKeys.ed25519(dir);
    this.vm = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).httpClient(http).start();
    this.knownHosts = dir.resolve("known_hosts");
    Files.writeString(knownHosts, vm.knownHostsLine() + "\n");
    this.connector =
        SshConnector.builder()
            .identity(key.identity())
            .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  static TestVm start(Path dir) throws IOException {
    return new TestVm(dir, EmbeddedVm.HttpClient.BOTH);
  }

  /** A target with a config directory of its own inside the VM's filesystem. */
  Target newTarget() {
    return target(vm.root().resolve("etc/istio-proxy-" + targets.incrementAndGet()).toString());
  }

  Target target(String configDir) {
    return Target.builder().host(vm.host()).port(vm.port()).configDir(configDir).build();
  }

  static StageContext.Standalone context(Stage stage) {
    // Generous: a deadline for scripts that hang, not a timing bound (the machine is shared).
    return StageContext.standalone(WorkloadRef.of("ns", "vm-1"), stage, Duration.ofSeconds(90));
  }

  static int mode(Path file) {
    try {
      int mode = 0;
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      for (PosixFilePermission p : PosixFilePermission.values()) {
        if (perms.contains(p)) {
          mode |= 1 << (8 - p.ordinal());
        }
      }
      return mode;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    vm.close();
  }

  /**
   * {@code inner} as a {@link Stage#STOP_PROXY} context whose progress messages land in {@code
   * progress}, for tests of what offboarding leaves and says.
   */
  static StageContext reporting(StageContext inner, java.util.List<String> progress) {
    return new StageContext() {
      @Override
      public WorkloadRef workload() {
        return inner.workload();
      }

      @Override
      public Stage stage() {
        return Stage.STOP_PROXY;
      }

      @Override
      public Instant deadline() {
        return inner.deadline();
      }

      @Override
      public <T extends AutoCloseable> T shared(
          Class<T> type, java.util.function.Supplier<? extends T> opener) {
        return inner.shared(type, opener);
      }

      @Override
      public void progress(String message) {
        progress.add(message);
      }
    };
  }
}
