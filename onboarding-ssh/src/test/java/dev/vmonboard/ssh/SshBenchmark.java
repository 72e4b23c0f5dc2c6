package dev.vmonboard.ssh;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.WorkloadRef;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Onboards the same VMs two ways against one real OpenSSH server (one config directory and one
 * container name per VM), sequentially, on plain loopback and through a relay that delays every
 * chunk by 25 ms each way: with {@link SshTransport} + {@link ContainerProxyLauncher} (which also
 * verify readiness), and with the old tool's pattern (one connection; a channel for {@code mkdir},
 * one {@code scp -t} per file, one per docker command: seven). Prints connections and channels per
 * VM and milliseconds per VM. Not a test: run it by hand (see the module README).
 *
 * <p>Arguments: {@code [vms (50)] [delayMillis (25)]}.
 */
public final class SshBenchmark {

  private SshBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int vms = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int delay = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    Path dir = Files.createTempDirectory("vmonboard-bench-");
    TestKeys.Key key = TestKeys.ed25519(dir);
    try (OpenSshServer sshd =
            OpenSshServer.start(
                Files.createDirectory(dir.resolve("sshd")), List.of(key.publicKeyLine()));
        TcpRelay relay = TcpRelay.delaying(sshd.port(), delay)) {
      String line = sshd.knownHostsLine();
      Path knownHosts =
          Files.write(
              dir.resolve("known_hosts"),
              List.of(line, line.replace(":" + sshd.port() + " ", ":" + relay.port() + " ")));
      SshConnector connector =
          SshConnector.builder()
              .identity(key.identity())
              .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
              .build();
      System.out.printf(
          Locale.ROOT,
          "%d VMs, sequential, OpenSSH %s on 127.0.0.1; JSch, one JVM.%n",
          vms,
          sshdVersion());
      System.out.printf(
          Locale.ROOT,
          "%-34s %-16s %9s %9s %9s %9s%n",
          "pattern",
          "network",
          "conn/VM",
          "chan/VM",
          "ms/VM",
          "median");
      for (int port : new int[] {sshd.port(), relay.port()}) {
        String network = port == sshd.port() ? "loopback" : "+" + delay + " ms each way";
        int rounds = port == sshd.port() ? vms : vms;
        // warm-up (JIT, sshd's first forks), not counted
        run(connector, port, dir.resolve("warm-" + port), Math.min(5, rounds), true);
        run(connector, port, dir.resolve("warm-old-" + port), Math.min(5, rounds), false);
        Result bare = connectOnly(connector, port, rounds);
        Result ours = run(connector, port, dir.resolve("new-" + port), rounds, true);
        Result old = run(connector, port, dir.resolve("old-" + port), rounds, false);
        print("connect + auth + disconnect only", network, bare);
        print("SshTransport + ContainerProxyLauncher", network, ours);
        System.out.printf(
            Locale.ROOT,
            "%-34s %-16s deliver %.1f ms, launch+verify %.1f ms (means)%n",
            "",
            network,
            Arrays.stream(ours.deliverMillis).average().orElse(0),
            Arrays.stream(ours.launchMillis).average().orElse(0));
        print("old tool: 7 channels, no readiness", network, old);
        System.out.printf(
            Locale.ROOT, "%-34s %-16s speed-up x%.2f%n", "", network, old.mean() / ours.mean());
      }
    }
  }

  private record Result(
      double connections,
      double channels,
      double[] millis,
      double[] deliverMillis,
      double[] launchMillis) {
    double mean() {
      return Arrays.stream(millis).average().orElse(0);
    }

    double median() {
      double[] sorted = millis.clone();
      Arrays.sort(sorted);
      return sorted[sorted.length / 2];
    }
  }

  private static void print(String pattern, String network, Result r) {
    System.out.printf(
        Locale.ROOT,
        "%-34s %-16s %9.1f %9.1f %9.1f %9.1f%n",
        pattern,
        network,
        r.connections(),
        r.channels(),
        r.mean(),
        r.median());
  }

  private static Result run(SshConnector connector, int port, Path base, int vms, boolean ours)
      throws Exception {
    double[] millis = new double[vms];
    double[] deliver = new double[vms];
    double[] launch = new double[vms];
    long connections = 0;
    long channels = 0;
    for (int i = 0; i < vms; i++) {
      Target target =
          Target.builder()
              .host("127.0.0.1")
              .port(port)
              .configDir(base.resolve("vm-" + i + "/istio-proxy").toString())
              .build();
      Bundle bundle = bundle("istio-proxy-" + base.getFileName() + "-" + i);
      long start = System.nanoTime();
      if (ours) {
        try (StageContext.Standalone run =
            StageContext.standalone(
                WorkloadRef.of("bench", "vm-" + i), Stage.DELIVER, Duration.ofMinutes(2))) {
          SshTransport.using(connector).deliver(bundle, target, run);
          deliver[i] = (System.nanoTime() - start) / 1e6;
          ContainerProxyLauncher.builder(connector)
              .pollInterval(Duration.ofMillis(200))
              .build()
              .launch(bundle, target, run);
          launch[i] = (System.nanoTime() - start) / 1e6 - deliver[i];
          VmSession session = VmSession.of(connector, target, run);
          connections += session.connectionsOpened();
          channels += session.channelsOpened();
        }
      } else {
        channels += oldPattern(connector, target, bundle);
        connections++;
      }
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    return new Result((double) connections / vms, (double) channels / vms, millis, deliver, launch);
  }

  private static Result connectOnly(SshConnector connector, int port, int vms) throws Exception {
    double[] millis = new double[vms];
    for (int i = 0; i < vms; i++) {
      long start = System.nanoTime();
      connector.connect("127.0.0.1", port, null).close();
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    return new Result(1, 0, millis, millis, millis);
  }

  /** The old tool: mkdir, one scp -t per file, docker rm -f, docker run; no quoting, no check. */
  private static int oldPattern(SshConnector connector, Target target, Bundle bundle)
      throws Exception {
    Duration t = Duration.ofMinutes(1);
    try (SshConnection c = connector.connect(target.host(), target.port(), null)) {
      check(c.exec("mkdir", "mkdir -p " + Shell.quote(target.configDir()), new byte[0], t));
      for (BundleFile file : bundle.files()) {
        ByteArrayOutputStream scp = new ByteArrayOutputStream();
        scp.writeBytes(
            String.format(Locale.ROOT, "C%04o %d %s%n", file.mode(), file.size(), file.path())
                .getBytes(StandardCharsets.UTF_8));
        scp.writeBytes(file.content());
        scp.write(0);
        check(c.exec("scp", "scp -t " + Shell.quote(target.configDir()), scp.toByteArray(), t));
      }
      ContainerLaunch launch = (ContainerLaunch) bundle.launch();
      c.exec("docker rm", "docker rm -f " + Shell.quote(launch.containerName()), new byte[0], t);
      List<String> run = new ArrayList<>(List.of("docker"));
      run.addAll(launch.runArguments(target.configDir()));
      check(c.exec("docker run", Shell.join(run), new byte[0], t));
      return c.channelsOpened();
    }
  }

  private static void check(ExecResult result) {
    if (result.exitCode() != 0) {
      throw new IllegalStateException("old pattern step failed: " + result.lastErrorLines(3));
    }
  }

  private static Bundle bundle(String containerName) {
    byte[] pem =
        ("-----BEGIN CERTIFICATE-----\n" + "A".repeat(1100) + "\n-----END CERTIFICATE-----\n")
            .getBytes(StandardCharsets.US_ASCII);
    return Bundle.builder()
        .workload(WorkloadRef.of("bench", containerName))
        .addFiles(
            BundleFile.of(
                "sidecar.env",
                0644,
                ("X=" + "y".repeat(2000) + "\n").getBytes(StandardCharsets.US_ASCII)))
        .addFiles(BundleFile.of("istio-ca.pem", 0644, pem))
        .addFiles(BundleFile.of("k8s-ca.pem", 0644, pem))
        .tokenPath("istio-token")
        .launch(
            Bundles.containerLaunch()
                .containerName(containerName)
                .addMounts(
                    ContainerLaunch.Mount.of(
                        "k8s-ca.pem", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", true))
                .build())
        .build()
        .withToken(BootstrapToken.of("t".repeat(900), "istio-ca", Instant.now().plusSeconds(3600)));
  }

  private static String sshdVersion() {
    try {
      Process p =
          new ProcessBuilder(OpenSshServer.SSHD.toString(), "-V").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return out.split("[ ,]")[0];
    } catch (Exception e) {
      return "?";
    }
  }
}
