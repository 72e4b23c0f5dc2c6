package dev.vmonboard.ssh;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.TokenIssuer;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.mesh.MeshSnapshot;
import dev.vmonboard.core.testing.TestMeshes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the SSH benchmarks share: one real OpenSSH {@code sshd} with the stand-in tools, a relay in
 * front of it that delays every chunk by a fixed time each way, a connector that trusts both
 * strictly, and realistic workloads and bundles (the real {@link ContainerBundleFactory}, the
 * Kubernetes CA included, and tokens as long as a real one).
 */
final class BenchmarkSetup implements AutoCloseable {

  final Path dir;
  final OpenSshServer sshd;
  final EmbeddedVm embedded;
  final int serverPort;
  final TcpRelay relay;
  final SshConnector connector;
  final int delayMillis;

  private BenchmarkSetup(Path dir, int delayMillis, boolean embeddedServer) throws Exception {
    this.dir = dir;
    this.delayMillis = delayMillis;
    TestKeys.Key key = TestKeys.ed25519(dir);
    String line;
    if (embeddedServer) {
      this.sshd = null;
      this.embedded = EmbeddedVm.builder().authorizedKey(key.publicKeyLine()).start();
      this.serverPort = embedded.port();
      line = embedded.knownHostsLine();
    } else {
      this.embedded = null;
      this.sshd =
          OpenSshServer.start(
              Files.createDirectory(dir.resolve("sshd")), List.of(key.publicKeyLine()));
      this.serverPort = sshd.port();
      line = sshd.knownHostsLine();
    }
    this.relay = TcpRelay.delaying(serverPort, delayMillis);
    Path knownHosts =
        Files.write(
            dir.resolve("known_hosts"),
            List.of(line, line.replace(":" + serverPort + " ", ":" + relay.port() + " ")));
    this.connector =
        SshConnector.builder()
            .identity(key.identity())
            .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
            .build();
  }

  /** One real OpenSSH {@code sshd}. */
  static BenchmarkSetup start(int delayMillis) throws Exception {
    return start(delayMillis, false);
  }

  /**
   * With {@code embeddedServer}, an {@link EmbeddedVm} (Apache MINA SSHD in this JVM, the same
   * stand-ins, real {@code sh}) instead of {@code sshd}: its CPU is then part of this JVM's.
   */
  static BenchmarkSetup start(int delayMillis, boolean embeddedServer) throws Exception {
    return new BenchmarkSetup(
        Files.createTempDirectory("vmonboard-bench-"), delayMillis, embeddedServer);
  }

  /** What serves the VMs, for the report. */
  String serverName() {
    return sshd != null ? sshdVersion() : "an embedded MINA SSHD VM (in this JVM)";
  }

  /**
   * The config directory of VM {@code i} of a round: {@code istio-proxy-I} in a directory of the
   * round that exists, as {@code /etc} does for {@code /etc/istio-proxy}.
   */
  Path configDir(String round, boolean delayed, int i) throws IOException {
    return Files.createDirectories(dir.resolve(round + "-" + port(delayed)))
        .resolve("istio-proxy-" + i);
  }

  /** The port to reach sshd on: directly, or through the delaying relay. */
  int port(boolean delayed) {
    return delayed ? relay.port() : serverPort;
  }

  String network(boolean delayed) {
    return delayed ? "+" + delayMillis + " ms each way" : "loopback";
  }

  /**
   * CPU time the server side has used so far, in milliseconds: sshd and every process it started
   * for the logins and their commands (the stand-in tools included), as Linux counts it for a
   * process and its reaped children ({@code /proc/PID/stat}, in clock ticks of 10 ms). The
   * per-connection processes are reaped when their connection ends.
   */
  long serverCpuMillis() throws IOException {
    if (sshd == null) {
      return 0; // the embedded server's CPU is this JVM's
    }
    String pid = Files.readString(dir.resolve("sshd/sshd.pid")).strip();
    String stat = Files.readString(Path.of("/proc", pid, "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = 0;
    for (int field = 11; field <= 14; field++) {
      ticks += Long.parseLong(fields[field]);
    }
    return ticks * 10;
  }

  /** CPU time this JVM (the client side) has used so far, in milliseconds. */
  static long clientCpuMillis() {
    return ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime()
        / 1_000_000;
  }

  /** The stand-in runtime's containers are forgotten, so that every round starts alike. */
  void forgetContainers() throws IOException {
    (sshd != null ? sshd.standIns() : embedded.standIns()).removeContainers();
  }

  /** The typical test mesh with a Kubernetes CA: bundles of four files, as the old tool copied. */
  static MeshSnapshot mesh() {
    return MeshSnapshot.builder()
        .from(TestMeshes.typical())
        .kubernetesCaCertificate(TestMeshes.ROOT_CERT)
        .build();
  }

  /** A WorkloadEntry reached at {@code port}, with its own config directory and container. */
  static Workload workload(String name, int port, Path configDir) {
    return Workload.builder(WorkloadRef.of("bench", name))
        .address("127.0.0.1")
        .serviceAccount("bench-sa")
        .putLabels("app", "bench")
        .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), Integer.toString(port))
        .putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), configDir.toString())
        .putAnnotations(BootstrapAnnotation.PROXY_CONTAINER_NAME.key(), "proxy-" + name)
        .build();
  }

  /** {@code workload}'s bundle from the real factory, with a token as long as a real one. */
  static Bundle bundle(Workload workload) {
    return ContainerBundleFactory.create()
        .build(workload, mesh())
        .withToken(TOKENS.issue(workload, null));
  }

  /** Tokens of 900 characters, about the size of a real ServiceAccount token. */
  static final TokenIssuer TOKENS =
      (workload, request) ->
          BootstrapToken.of(
              ("bench-token-" + workload.name() + "-").repeat(60).substring(0, 900),
              "istio-ca",
              Instant.now().plusSeconds(3600));

  static String sshdVersion() {
    try {
      Process p =
          new ProcessBuilder(OpenSshServer.SSHD.toString(), "-V").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return out.split("[ ,]")[0];
    } catch (IOException e) {
      return "?";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  /** Stops the relay and sshd and deletes every file of the run. */
  @Override
  public void close() throws IOException {
    relay.close();
    if (sshd != null) {
      sshd.close();
    } else {
      embedded.close();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
