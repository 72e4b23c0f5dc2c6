package dev.vmonboard.reliability;

import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.ssh.EmbeddedVm;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture of the end-to-end tests that each need a VM of their own: one {@link Rig} (embedded
 * cluster) per test class, and per test a new VM with a WorkloadEntry for it, named {@link #name}.
 */
abstract class OnOneCluster {

  private static final AtomicInteger NAMES = new AtomicInteger();

  @TempDir static Path dir;
  static Rig rig;

  /** This test's VM. */
  EmbeddedVm vm;

  /** The name of this test's WorkloadEntry. */
  String name;

  /** This test's workload. */
  WorkloadRef ref;

  @BeforeAll
  static void startCluster() {
    rig = Rig.start(dir);
  }

  @AfterAll
  static void stopCluster() {
    rig.close();
  }

  @BeforeEach
  void startVm() {
    use(rig.vm());
  }

  /** Makes {@code other} this test's VM, with a new entry for it. */
  void use(EmbeddedVm other) {
    vm = other;
    name = "vm-" + NAMES.incrementAndGet();
    ref = WorkloadRef.of(Rig.NS, name);
    rig.entryFor(name, vm, "10.1.0." + NAMES.get());
  }
}
