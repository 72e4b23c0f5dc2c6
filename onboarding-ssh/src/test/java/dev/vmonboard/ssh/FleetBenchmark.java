package dev.vmonboard.ssh;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.TargetDefaults;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.testing.InMemoryRegistrar;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Issue 7's fleet benchmark: onboards the same number of VMs (one real OpenSSH {@code sshd}, one
 * config directory and one container name per VM) through the real {@link OnboardingPipeline}
 * ({@code onboardAll}: in-memory registrar and token issuer, the real container bundle factory,
 * {@link SshTransport} and {@link ContainerProxyLauncher}) at several concurrencies, and with the
 * old tool's pattern ({@link OldTool}: sequential, one connection and seven channels per VM) as the
 * baseline, on plain loopback and through a relay that delays every chunk by 25 ms each way. Prints
 * wall time, VMs per second, the speed-up over the baseline, connections and channels per VM, and
 * the CPU time per VM of the server side (sshd and everything it ran) and of this JVM. Not a test:
 * run it by hand (see the module README).
 *
 * <p>Arguments: {@code [vms (100)] [delayMillis (25)] [concurrencies (1,4,16,32)] [sshd|embedded
 * (sshd)]}: {@code embedded} serves the VMs with an {@link EmbeddedVm} in this JVM instead of
 * OpenSSH (the server's CPU is then counted in the JVM's column).
 */
public final class FleetBenchmark {

  private FleetBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int vms = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int delay = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    int[] concurrencies =
        Arrays.stream((args.length > 2 ? args[2] : "1,4,16,32").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    boolean embedded = args.length > 3 && args[3].equals("embedded");
    try (BenchmarkSetup setup = BenchmarkSetup.start(delay, embedded)) {
      System.out.printf(
          Locale.ROOT,
          "%d VMs per round, %s on 127.0.0.1 (one config directory and container per VM);"
              + " JSch, one JVM; %d cores, load %.1f at the start.%n",
          vms,
          setup.serverName(),
          Runtime.getRuntime().availableProcessors(),
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      System.out.printf(
          Locale.ROOT,
          "%-16s %-22s %6s %8s %7s %7s %7s %7s %10s %10s %5s%n",
          "network",
          "pattern",
          "conc.",
          "wall s",
          "VMs/s",
          "x base",
          "conn/VM",
          "chan/VM",
          "srv cpu ms",
          "jvm cpu ms",
          "fail");
      for (boolean delayed : new boolean[] {false, true}) {
        round(setup, delayed, "warm", Math.min(8, vms), 4, false); // JIT and sshd warm-up
        Round baseline = round(setup, delayed, "old", vms, 1, true);
        print(setup.network(delayed), "old tool (sequential)", baseline, baseline);
        for (int concurrency : concurrencies) {
          Round ours = round(setup, delayed, "c" + concurrency, vms, concurrency, false);
          print(setup.network(delayed), "onboardAll (pipeline)", ours, baseline);
        }
        int widest = Arrays.stream(concurrencies).max().orElse(1);
        print(
            setup.network(delayed),
            "login only (ceiling)",
            loginsOnly(setup, delayed, vms, widest),
            baseline);
      }
      System.out.println(
          "old tool: 1 connection, mkdir + 4 x scp -t + docker rm + docker run, no check;"
              + " onboardAll: SshTransport + ContainerProxyLauncher, readiness verified;"
              + " login only: connect, authenticate, disconnect, nothing else, the most VMs/s"
              + " any SSH onboarding can reach here; cpu: per VM, server = sshd and all it ran,"
              + " jvm = this process");
    }
  }

  private record Round(
      int concurrency,
      int vms,
      double seconds,
      double connections,
      double channels,
      double serverCpu,
      double clientCpu,
      int failures) {
    double perSecond() {
      return vms / seconds;
    }
  }

  private static void print(String network, String pattern, Round r, Round baseline) {
    System.out.printf(
        Locale.ROOT,
        "%-16s %-22s %6d %8.2f %7.2f %7s %7.1f %7.1f %10.1f %10.1f %5d%n",
        network,
        pattern,
        r.concurrency(),
        r.seconds(),
        r.perSecond(),
        String.format(Locale.ROOT, "x%.1f", r.perSecond() / baseline.perSecond()),
        r.connections(),
        r.channels(),
        r.serverCpu(),
        r.clientCpu(),
        r.failures());
  }

  /** {@code count} logins and nothing else, {@code concurrency} at a time. */
  private static Round loginsOnly(BenchmarkSetup setup, boolean delayed, int count, int concurrency)
      throws Exception {
    SshConnector connector = setup.connector;
    long connections = connector.connectionsOpened();
    long serverCpu = setup.serverCpuMillis();
    long clientCpu = BenchmarkSetup.clientCpuMillis();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    long start = System.nanoTime();
    int failures = 0;
    try {
      List<Future<?>> logins = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        logins.add(
            pool.submit(
                () -> {
                  connector.connect("127.0.0.1", setup.port(delayed), null).close();
                  return null;
                }));
      }
      for (Future<?> login : logins) {
        try {
          login.get();
        } catch (ExecutionException e) {
          failures++;
        }
      }
    } finally {
      pool.shutdown();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Thread.sleep(200);
    return new Round(
        concurrency,
        count,
        seconds,
        (double) (connector.connectionsOpened() - connections) / count,
        0,
        (double) (setup.serverCpuMillis() - serverCpu) / count,
        (double) (BenchmarkSetup.clientCpuMillis() - clientCpu) / count,
        failures);
  }

  /** One round: {@code vms} new VMs onboarded, timed; then offboarded (not timed). */
  private static Round round(
      BenchmarkSetup setup, boolean delayed, String name, int vms, int concurrency, boolean old)
      throws Exception {
    setup.forgetContainers();
    InMemoryRegistrar registrar = new InMemoryRegistrar();
    List<WorkloadRef> refs = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    for (int i = 0; i < vms; i++) {
      Workload workload =
          BenchmarkSetup.workload(
              name + "-" + i, setup.port(delayed), setup.configDir(name, delayed, i));
      registrar.add(workload);
      refs.add(workload.ref());
      workloads.add(workload);
    }
    SshConnector connector = setup.connector;
    OnboardingPipeline pipeline =
        OnboardingPipeline.builder()
            .registrar(registrar)
            .tokenIssuer(BenchmarkSetup.TOKENS)
            .meshSource(MeshConfigSource.fixed(BenchmarkSetup.mesh()))
            .bundleFactory(ContainerBundleFactory.create())
            .transport(SshTransport.using(connector))
            .launcher(
                ContainerProxyLauncher.builder(connector)
                    .pollInterval(Duration.ofMillis(200))
                    .build())
            .concurrency(concurrency)
            .build();
    long connections = connector.connectionsOpened();
    long channels = connector.channelsOpened();
    long serverCpu = setup.serverCpuMillis();
    long clientCpu = BenchmarkSetup.clientCpuMillis();
    long start = System.nanoTime();
    int failures = 0;
    if (old) {
      for (int i = 0; i < vms; i++) {
        Workload workload = workloads.get(i);
        Target target = Target.resolve(workload, TargetDefaults.standard());
        try {
          OldTool.onboard(connector, target, BenchmarkSetup.bundle(workload));
        } catch (SshException | RuntimeException e) {
          failures++;
          System.out.println("  old tool failed for " + workload.ref() + ": " + e.getMessage());
        }
      }
    } else {
      FleetResult result = pipeline.onboardAll(refs);
      for (OnboardingResult failed : result.failures()) {
        failures++;
        System.out.println("  failed: " + failed);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Thread.sleep(200); // let sshd reap the connections' processes, so that their CPU time counts
    Round round =
        new Round(
            concurrency,
            vms,
            seconds,
            (double) (connector.connectionsOpened() - connections) / vms,
            (double) (connector.channelsOpened() - channels) / vms,
            (double) (setup.serverCpuMillis() - serverCpu) / vms,
            (double) (BenchmarkSetup.clientCpuMillis() - clientCpu) / vms,
            failures);
    if (!old) {
      FleetResult gone = pipeline.offboardAll(refs);
      if (!gone.failures().isEmpty()) {
        System.out.println("  offboarding failed: " + gone.failures().get(0));
      }
    }
    return round;
  }
}
