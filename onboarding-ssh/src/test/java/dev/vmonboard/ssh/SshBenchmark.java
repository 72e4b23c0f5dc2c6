package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.TargetDefaults;
import dev.vmonboard.core.Workload;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * Issue 5's benchmark: onboards the same VMs two ways against one real OpenSSH server (one config
 * directory and one container name per VM), sequentially, on plain loopback and through a relay
 * that delays every chunk by 25 ms each way: with {@link SshTransport} + {@link
 * ContainerProxyLauncher} (which also verify readiness), and with the old tool's pattern ({@link
 * OldTool}: one connection; a channel for {@code mkdir}, one {@code scp -t} per file, one per
 * docker command: seven). Prints connections and channels per VM and milliseconds per VM. Not a
 * test: run it by hand (see the module README).
 *
 * <p>Arguments: {@code [vms (50)] [delayMillis (25)]}.
 */
public final class SshBenchmark {

  private SshBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int vms = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int delay = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    try (BenchmarkSetup setup = BenchmarkSetup.start(delay)) {
      System.out.printf(
          Locale.ROOT,
          "%d VMs, sequential, %s on 127.0.0.1; JSch, one JVM; %d cores, load %.1f.%n",
          vms,
          BenchmarkSetup.sshdVersion(),
          Runtime.getRuntime().availableProcessors(),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      System.out.printf(
          Locale.ROOT,
          "%-38s %-16s %7s %7s %8s %8s%n",
          "pattern",
          "network",
          "conn/VM",
          "chan/VM",
          "ms/VM",
          "median");
      for (boolean delayed : new boolean[] {false, true}) {
        String network = setup.network(delayed);
        // warm-up (JIT, sshd's first forks), not counted
        run(setup, delayed, "warm", Math.min(5, vms), true);
        run(setup, delayed, "warm-old", Math.min(5, vms), false);
        Result bare = connectOnly(setup, delayed, vms);
        Result ours = run(setup, delayed, "new", vms, true);
        Result old = run(setup, delayed, "old", vms, false);
        print("connect + auth + disconnect only", network, bare);
        print("SshTransport + ContainerProxyLauncher", network, ours);
        System.out.printf(
            Locale.ROOT,
            "%-38s %-16s deliver %.1f ms, launch+verify %.1f ms (means)%n",
            "",
            network,
            Arrays.stream(ours.deliverMillis).average().orElse(0),
            Arrays.stream(ours.launchMillis).average().orElse(0));
        print("old tool: 7 channels, no readiness", network, old);
        System.out.printf(
            Locale.ROOT, "%-38s %-16s speed-up x%.2f%n", "", network, old.mean() / ours.mean());
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
        "%-38s %-16s %7.1f %7.1f %8.1f %8.1f%n",
        pattern,
        network,
        r.connections(),
        r.channels(),
        r.mean(),
        r.median());
  }

  private static Result run(
      BenchmarkSetup setup, boolean delayed, String round, int vms, boolean ours) throws Exception {
    setup.forgetContainers();
    double[] millis = new double[vms];
    double[] deliver = new double[vms];
    double[] launch = new double[vms];
    SshConnector connector = setup.connector;
    long connections = connector.connectionsOpened();
    long channels = connector.channelsOpened();
    for (int i = 0; i < vms; i++) {
      Workload workload =
          BenchmarkSetup.workload(
              round + "-" + i, setup.port(delayed), setup.configDir(round, delayed, i));
      Target target = Target.resolve(workload, TargetDefaults.standard());
      Bundle bundle = BenchmarkSetup.bundle(workload);
      long start = System.nanoTime();
      if (ours) {
        try (StageContext.Standalone run =
            StageContext.standalone(workload.ref(), Stage.DELIVER, Duration.ofMinutes(2))) {
          SshTransport.using(connector).deliver(bundle, target, run);
          deliver[i] = (System.nanoTime() - start) / 1e6;
          ContainerProxyLauncher.builder(connector)
              .pollInterval(Duration.ofMillis(200))
              .build()
              .launch(bundle, target, run);
          launch[i] = (System.nanoTime() - start) / 1e6 - deliver[i];
        }
      } else {
        OldTool.onboard(connector, target, bundle);
      }
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    return new Result(
        (double) (connector.connectionsOpened() - connections) / vms,
        (double) (connector.channelsOpened() - channels) / vms,
        millis,
        deliver,
        launch);
  }

  private static Result connectOnly(BenchmarkSetup setup, boolean delayed, int vms)
      throws Exception {
    double[] millis = new double[vms];
    for (int i = 0; i < vms; i++) {
      long start = System.nanoTime();
      setup.connector.connect("127.0.0.1", setup.port(delayed), null).close();
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    return new Result(1, 0, millis, millis, millis);
  }
}
