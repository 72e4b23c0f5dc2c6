package dev.vmonboard.ssh;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingEvent;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.TargetDefaults;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.testing.InMemoryRegistrar;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Issue 16's benchmark: the SDK against the limit of the same work, in one warm JVM that holds
 * nothing but the clients (OpenSSH's {@code sshd}, the 25 ms relay and the embedded VMs run in
 * processes of their own, so this JVM's CPU time, threads and heap are the client side's alone).
 *
 * <p>For each network (loopback, and the relay that delays every chunk each way) and each
 * concurrency, three patterns onboard the same number of new VMs (one config directory and
 * container each, on one real {@code sshd} with the stand-in tools):
 *
 * <ul>
 *   <li><b>old</b>: the old tool's pattern ({@link OldTool}: one connection, seven channels);
 *   <li><b>sdk</b>: {@code OnboardingPipeline.onboardAll} with {@link SshTransport} and {@link
 *       ContainerProxyLauncher} (in-memory registrar and token issuer, the real bundle factory); a
 *       {@link ShellTap} records every byte it sends to every VM;
 *   <li><b>replay</b>: the VMs wiped back to their state before the SDK's round, then the recorded
 *       bytes sent again by a bare JSch client ({@link Replay}): one connection and one channel per
 *       VM, no pipeline, no events; the limit of the same work.
 * </ul>
 *
 * Then, against {@code inFlight} VMs of one embedded MINA SSHD server (another process), the SDK at
 * concurrency {@code inFlight}: every run is held after its delivery until all are in flight, and
 * the threads and the heap (after a GC) are counted then.
 *
 * <p>Arguments: {@code [vms (40)] [delayMillis (25)] [concurrencies (1,16)] [inFlight (256)]
 * [warm-up VMs (240)]}. Prints each round as it ends, then a summary table. Not a test: see the
 * module README.
 */
public final class LimitBenchmark {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** {@code -Dlimit.skipOld=true}: no old-tool rounds (for a profile of the SDK and the replay). */
  private static final boolean SKIP_OLD = Boolean.getBoolean("limit.skipOld");

  /**
   * {@code -Dlimit.profile=true}: samples the SDK's run threads during its measured rounds and
   * prints where they were ({@link ThreadSampler}).
   */
  private static final boolean PROFILE = Boolean.getBoolean("limit.profile");

  private final Path dir;
  private final OpenSshServer sshd;
  private final Forked relay;
  private final int relayPort;
  private final SshConnector connector;
  private final Replay.Recorder recorder = new Replay.Recorder();
  private final Replay.Client bare;
  private final int delay;

  private LimitBenchmark(Path dir, TestKeys.Key key, int delay) throws Exception {
    this.dir = dir;
    this.delay = delay;
    this.sshd =
        OpenSshServer.start(
            Files.createDirectory(dir.resolve("sshd")), List.of(key.publicKeyLine()));
    this.relay =
        Forked.start(TcpRelay.class, Integer.toString(sshd.port()), Integer.toString(delay));
    this.relayPort = Integer.parseInt(relay.ready().split(" ")[1]);
    String line = sshd.knownHostsLine();
    Path knownHosts =
        Files.write(
            dir.resolve("known_hosts"),
            List.of(line, line.replace(":" + sshd.port() + " ", ":" + relayPort + " ")));
    this.connector =
        SshConnector.builder()
            .identity(key.identity())
            .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
            .build();
    connector.tap(recorder);
    this.bare = new Replay.Client(key.identity(), knownHosts);
  }

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int vms = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int delay = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    int[] concurrencies =
        Arrays.stream((args.length > 2 ? args[2] : "1,16").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 256;
    int warm = args.length > 4 ? Integer.parseInt(args[4]) : 240;
    Path dir = Files.createTempDirectory("vmonboard-limit-");
    TestKeys.Key key = TestKeys.ed25519(dir);
    System.out.printf(
        Locale.ROOT,
        "%d VMs per round on %s at 127.0.0.1 (sshd and the relay in processes of their own);"
            + " %d cores, load %.1f at the start; JVM %s %s%n",
        vms,
        BenchmarkSetup.sshdVersion(),
        Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        System.getProperty("java.vm.version"),
        ManagementFactory.getRuntimeMXBean().getInputArguments());
    List<Row> rows = new ArrayList<>();
    InFlight held = null;
    try {
      warmPipeline(warm * 40);
      if (vms > 0) {
        LimitBenchmark bench = new LimitBenchmark(dir, key, delay);
        try {
          for (boolean delayed : new boolean[] {false, true}) {
            bench.warmUp(delayed, warm);
            Measure logins = delayed ? bench.loginsOnly(vms) : null;
            for (int concurrency : concurrencies) {
              rows.add(bench.compare(delayed, vms, concurrency, logins));
            }
          }
        } finally {
          bench.close();
        }
      }
      if (inFlight > 0) {
        held = inFlight(dir, key, inFlight);
      }
    } finally {
      deleteTree(dir);
    }
    printSummary(rows, held, delay);
  }

  /**
   * CPU time of the threads that run the VMs (the SDK's run threads, the replay's workers), read on
   * those threads ({@link ThreadMXBean#getCurrentThreadCpuTime}): no JIT, no GC, no JSch reader
   * threads. For the SDK, also per stage (from the pipeline's own stage events, on the run's
   * thread) and, for both, the login's share.
   */
  private static final class RunCpu {
    final java.util.concurrent.atomic.LongAdder total = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder login = new java.util.concurrent.atomic.LongAdder();
    final Map<Stage, java.util.concurrent.atomic.LongAdder> stages =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final ThreadLocal<long[]> started = ThreadLocal.withInitial(() -> new long[2]);

    /** A listener that counts each run's thread CPU from its first stage to its end. */
    dev.vmonboard.core.OnboardingListener listener() {
      return event -> {
        long now = THREADS.getCurrentThreadCpuTime();
        long[] at = started.get();
        if (event instanceof OnboardingEvent.StageStarted s) {
          if (s.stage() == Stage.RESOLVE) {
            at[0] = now;
          }
          at[1] = now;
        } else if (event instanceof OnboardingEvent.StageSucceeded s) {
          stages
              .computeIfAbsent(s.stage(), k -> new java.util.concurrent.atomic.LongAdder())
              .add(now - at[1]);
        } else if (event instanceof OnboardingEvent.WorkloadFinished) {
          total.add(now - at[0]);
        }
      };
    }

    String stagesPerVm(int vms) {
      StringBuilder line = new StringBuilder();
      for (Map.Entry<Stage, java.util.concurrent.atomic.LongAdder> e :
          new TreeMap<>(stages).entrySet()) {
        line.append(
            String.format(Locale.ROOT, " %s %.2f", e.getKey(), e.getValue().sum() / 1e6 / vms));
      }
      return line.toString().strip();
    }
  }

  /** One measured round of one pattern. */
  private record Measure(
      int vms,
      double seconds,
      double cpuMillis,
      double jitMillis,
      long exchanges,
      int peakThreads,
      int failures,
      RunCpu runCpu) {
    Measure with(RunCpu cpu) {
      return new Measure(vms, seconds, cpuMillis, jitMillis, exchanges, peakThreads, failures, cpu);
    }

    /** CPU per VM of the threads that ran the VMs; NaN if not measured. */
    double runCpuPerVm() {
      return runCpu == null ? Double.NaN : runCpu.total.sum() / 1e6 / vms;
    }

    /**
     * The login's share of {@link #runCpuPerVm}; NaN where not measured (the SDK's is in DELIVER).
     */
    double loginCpuPerVm() {
      return runCpu == null || runCpu.login.sum() == 0
          ? Double.NaN
          : runCpu.login.sum() / 1e6 / vms;
    }

    double msPerVm() {
      return seconds * 1000 / vms;
    }

    /** CPU per VM of every thread but the JIT compilers'. */
    double cpuPerVm() {
      return (cpuMillis - jitMillis) / vms;
    }

    double jitPerVm() {
      return jitMillis / vms;
    }

    double exchangesPerVm() {
      return (double) exchanges / vms;
    }
  }

  /** One line of the summary: the three patterns on one network at one concurrency. */
  private record Row(
      String network,
      int concurrency,
      Measure old,
      Measure sdk,
      Measure replay,
      Measure logins,
      double bytesPerVm,
      double chunksPerVm) {}

  private Row compare(boolean delayed, int vms, int concurrency, Measure logins) throws Exception {
    String network = network(delayed);
    Measure old =
        SKIP_OLD
            ? new Measure(vms, 1, 0, 0, 0, 0, 0, null)
            : old(delayed, vms, concurrency, "old-c" + concurrency);
    print(network, "old tool", concurrency, old);
    String round = "sdk-c" + concurrency;
    recorder.take();
    ThreadSampler profile = PROFILE ? new ThreadSampler("vmonboard-fleet-") : null;
    Measure sdk;
    try {
      sdk = sdk(delayed, vms, concurrency, round);
    } finally {
      if (profile != null) {
        profile.close();
      }
    }
    List<Replay.Transcript> transcripts = recorder.take();
    print(network, "sdk (onboardAll)", concurrency, sdk);
    wipe(round, delayed);
    Measure replay = replay(delayed, transcripts, concurrency);
    print(network, "replay (bare JSch)", concurrency, replay);
    wipe(round, delayed);
    double bytes = transcripts.stream().mapToLong(Replay.Transcript::bytes).sum() / (double) vms;
    double chunks = transcripts.stream().mapToInt(Replay.Transcript::chunks).sum() / (double) vms;
    if (transcripts.size() != vms) {
      System.out.println("  ! " + transcripts.size() + " connections recorded for " + vms + " VMs");
    }
    return new Row(network, concurrency, old, sdk, replay, logins, bytes, chunks);
  }

  /**
   * VMs through every pattern, unmeasured, so that the rounds measure a warm JVM: {@code warm} VMs
   * (at concurrency 16) for the SDK and the replay on loopback, where they go fast, before anything
   * else (the SDK runs far more of its own Java code per VM than the bare client, which the JIT
   * compiles only after some thousands of calls), and a few more on each network.
   */
  private void warmUp(boolean delayed, int warm) throws Exception {
    int rounds = delayed ? 1 : Math.max(1, warm / 30);
    for (int i = 0; i < rounds; i++) {
      String round = "warm" + i;
      int vms = delayed ? 8 : Math.min(30, warm);
      if (i == 0) {
        old(delayed, 4, 4, "old-" + round);
        wipe("old-" + round, delayed);
      }
      recorder.take();
      sdk(delayed, vms, Math.min(16, vms), round);
      List<Replay.Transcript> transcripts = recorder.take();
      wipe(round, delayed);
      replay(delayed, transcripts, Math.min(16, vms));
      wipe(round, delayed);
    }
  }

  /**
   * {@code count} workloads through the pipeline with in-memory stages and the real bundle factory
   * (no SSH): what the SDK's own Java code runs per VM gets compiled as it is in a JVM that has
   * onboarded a fleet, which SSH rounds alone would take far longer to do.
   */
  private static void warmPipeline(int count) {
    dev.vmonboard.core.testing.InMemoryStages stages =
        dev.vmonboard.core.testing.InMemoryStages.create();
    List<WorkloadRef> refs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Workload w = BenchmarkSetup.workload("warm-" + i, 22, Path.of("/etc/istio-proxy-" + i));
      stages.registrar().add(w);
      refs.add(w.ref());
    }
    long start = System.nanoTime();
    FleetResult result =
        stages
            .pipelineBuilder(ContainerBundleFactory.create(), BenchmarkSetup.mesh())
            .concurrency(16)
            .build()
            .onboardAll(refs);
    System.out.printf(
        Locale.ROOT,
        "  warm-up: %d workloads through the pipeline with in-memory stages in %.1f s (%d failed)%n",
        count,
        (System.nanoTime() - start) / 1e9,
        result.failures().size());
  }

  private Measure loginsOnly(int count) throws Exception {
    RunCpu cpu = new RunCpu();
    Measure m =
        measure(
                count,
                true,
                () -> {
                  long before = THREADS.getCurrentThreadCpuTime();
                  SshConnection c = connector.connect("127.0.0.1", relayPort, null);
                  long login = THREADS.getCurrentThreadCpuTime() - before;
                  cpu.login.add(login);
                  cpu.total.add(login);
                  c.close();
                  return 0;
                },
                1)
            .with(cpu);
    print(network(true), "login only", 1, m);
    return m;
  }

  private Measure old(boolean delayed, int vms, int concurrency, String round) throws Exception {
    List<Workload> workloads = workloads(round, delayed, vms);
    sshd.standIns().removeContainers();
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (Workload workload : workloads) {
      tasks.add(
          () -> {
            Target target = Target.resolve(workload, TargetDefaults.standard());
            OldTool.onboard(connector, target, BenchmarkSetup.bundle(workload));
            return 0;
          });
    }
    return measure(vms, delayed, tasks, concurrency, "old-");
  }

  private Measure sdk(boolean delayed, int vms, int concurrency, String round) throws Exception {
    List<Workload> workloads = workloads(round, delayed, vms);
    sshd.standIns().removeContainers();
    InMemoryRegistrar registrar = new InMemoryRegistrar();
    workloads.forEach(registrar::add);
    List<WorkloadRef> refs = workloads.stream().map(Workload::ref).toList();
    RunCpu cpu = new RunCpu();
    OnboardingPipeline pipeline =
        pipeline(registrar, connector, concurrency).listener(cpu.listener()).build();
    return measure(
            vms,
            delayed,
            List.of(
                () -> {
                  FleetResult result = pipeline.onboardAll(refs);
                  for (OnboardingResult failed : result.failures()) {
                    System.out.println("  failed: " + failed);
                  }
                  return result.failures().size();
                }),
            1,
            "sdk-caller-")
        .with(cpu);
  }

  private Measure replay(boolean delayed, List<Replay.Transcript> transcripts, int concurrency)
      throws Exception {
    RunCpu cpu = new RunCpu();
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (Replay.Transcript transcript : transcripts) {
      tasks.add(
          () -> {
            long before = THREADS.getCurrentThreadCpuTime();
            cpu.login.add(bare.replay(transcript));
            cpu.total.add(THREADS.getCurrentThreadCpuTime() - before);
            return 0;
          });
    }
    return measure(transcripts.size(), delayed, tasks, concurrency, "replay-").with(cpu);
  }

  private static OnboardingPipeline.Builder pipeline(
      InMemoryRegistrar registrar, SshConnector ssh, int concurrency) {
    return OnboardingPipeline.builder()
        .registrar(registrar)
        .tokenIssuer(BenchmarkSetup.TOKENS)
        .meshSource(MeshConfigSource.fixed(BenchmarkSetup.mesh()))
        .bundleFactory(ContainerBundleFactory.create())
        .transport(SshTransport.using(ssh))
        .launcher(ContainerProxyLauncher.builder(ssh).build())
        .concurrency(concurrency);
  }

  private Measure measure(int vms, boolean delayed, Callable<Integer> each, int concurrency)
      throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int i = 0; i < vms; i++) {
      tasks.add(each);
    }
    return measure(vms, delayed, tasks, concurrency, "login-");
  }

  /**
   * Runs {@code tasks}, {@code concurrency} at a time, and measures the wall time, this JVM's CPU
   * time, the exchanges at the relay and the peak of live threads. A task returns its failures.
   */
  private Measure measure(
      int vms, boolean delayed, List<Callable<Integer>> tasks, int concurrency, String threadName)
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger threads =
        new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            concurrency, task -> new Thread(task, threadName + threads.incrementAndGet()));
    try {
      long exchanges = delayed ? exchanges() : 0;
      THREADS.resetPeakThreadCount();
      long cpu = processCpuNanos();
      long jit = jitCpuMillis();
      long start = System.nanoTime();
      int failures = 0;
      List<Future<Integer>> done = new ArrayList<>();
      for (Callable<Integer> task : tasks) {
        done.add(pool.submit(task));
      }
      for (Future<Integer> f : done) {
        try {
          failures += f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          failures++;
          System.out.println("  failed: " + e.getCause());
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpuMillis = (processCpuNanos() - cpu) / 1e6;
      double jitMillis = jitCpuMillis() - jit;
      int peak = THREADS.getPeakThreadCount();
      Thread.sleep(2L * delay + 50); // the relay sees the last disconnects
      long seen = delayed ? exchanges() - exchanges : 0;
      return new Measure(vms, seconds, cpuMillis, jitMillis, seen, peak, failures, null);
    } finally {
      pool.shutdown();
    }
  }

  /**
   * CPU time of this JVM's JIT compiler threads so far, in milliseconds ({@code /proc}, 10 ms
   * ticks): left out of the client's CPU, which would otherwise count the compilation of whatever
   * code a round runs for the first time.
   */
  private static long jitCpuMillis() throws IOException {
    long ticks = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (name.contains("CompilerThre")) {
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        }
      }
    }
    return ticks * 10;
  }

  private long exchanges() {
    return Long.parseLong(relay.ask("count").split(" ")[1]);
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private List<Workload> workloads(String round, boolean delayed, int vms) throws IOException {
    Path roundDir = Files.createDirectories(roundDir(round, delayed));
    List<Workload> workloads = new ArrayList<>();
    for (int i = 0; i < vms; i++) {
      workloads.add(
          BenchmarkSetup.workload(
              round + "-" + i, port(delayed), roundDir.resolve("istio-proxy-" + i)));
    }
    return workloads;
  }

  private Path roundDir(String round, boolean delayed) {
    return dir.resolve(round + "-" + port(delayed));
  }

  /** The VMs of a round back to their state before it: no files, no containers. */
  private void wipe(String round, boolean delayed) throws IOException {
    Path roundDir = roundDir(round, delayed);
    deleteTree(roundDir);
    Files.createDirectories(roundDir);
    sshd.standIns().removeContainers();
  }

  private int port(boolean delayed) {
    return delayed ? relayPort : sshd.port();
  }

  private String network(boolean delayed) {
    return delayed ? "+" + delay + " ms each way" : "loopback";
  }

  private void close() throws Exception {
    relay.close();
    sshd.close();
  }

  private static void print(String network, String pattern, int concurrency, Measure m) {
    System.out.printf(
        Locale.ROOT,
        "  %-16s %-20s c=%-3d %7.1f ms/VM  cpu %6.2f ms/VM (+jit %5.2f; on the VMs' threads %5.2f,"
            + " login %5.2f)  exchanges %5.1f/VM  peak threads %4d  failed %d%n",
        network,
        pattern,
        concurrency,
        m.msPerVm(),
        m.cpuPerVm(),
        m.jitPerVm(),
        m.runCpuPerVm(),
        m.loginCpuPerVm(),
        m.exchangesPerVm(),
        m.peakThreads(),
        m.failures());
    if (m.runCpu() != null && !m.runCpu().stages.isEmpty()) {
      System.out.println(
          "    per stage, ms/VM on the run's thread: " + m.runCpu().stagesPerVm(m.vms()));
    }
  }

  /** Threads and heap with every run of a fleet of {@code count} in flight at once. */
  private record InFlight(
      int count,
      int inFlight,
      int threadsBefore,
      int threadsInFlight,
      int peakThreads,
      Map<String, Integer> threadGroups,
      long heapBefore,
      long heapInFlight,
      double seconds,
      int failures) {}

  /**
   * {@code count} VMs of one embedded server (another process) onboarded at concurrency {@code
   * count}; every run waits after its delivery until all have delivered (or a minute passed), and
   * the threads and the heap after a GC are counted then.
   */
  private static InFlight inFlight(Path dir, TestKeys.Key key, int count) throws Exception {
    try (Forked server = Forked.start(VmServer.class, key.publicKeyLine())) {
      String[] ready = server.ready().split("\t");
      int port = Integer.parseInt(ready[0]);
      Path root = Path.of(ready[1]);
      Path knownHosts = Files.write(dir.resolve("known_hosts_embedded"), List.of(ready[2]));
      SshConnector ssh =
          SshConnector.builder()
              .identity(key.identity())
              .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
              // hundreds of logins at once on two shared cores: the handshakes queue for CPU
              .connectTimeout(Duration.ofMinutes(2))
              .build();
      InMemoryRegistrar registrar = new InMemoryRegistrar();
      List<WorkloadRef> refs = new ArrayList<>();
      Path etc = Files.createDirectories(root.resolve("etc"));
      for (int i = 0; i < count; i++) {
        Workload w = BenchmarkSetup.workload("vm-" + i, port, etc.resolve("istio-proxy-" + i));
        registrar.add(w);
        refs.add(w.ref());
      }
      CountDownLatch arrived = new CountDownLatch(count);
      java.util.concurrent.atomic.AtomicInteger held =
          new java.util.concurrent.atomic.AtomicInteger();
      java.util.Set<WorkloadRef> counted = java.util.concurrent.ConcurrentHashMap.newKeySet();
      CountDownLatch release = new CountDownLatch(1);
      OnboardingPipeline pipeline =
          pipeline(registrar, ssh, count)
              // the deliveries wait for each other's logins on the same two cores
              .stageTimeout(Duration.ofMinutes(10))
              .listener(
                  event -> {
                    if (event instanceof OnboardingEvent.StageSucceeded s
                        && s.stage() == Stage.DELIVER
                        && counted.add(s.workload())) {
                      held.incrementAndGet();
                      arrived.countDown();
                      try {
                        release.await(5, TimeUnit.MINUTES);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    } else if (event instanceof OnboardingEvent.WorkloadFinished f
                        && counted.add(f.result().workload())) {
                      arrived.countDown(); // failed before its delivery: never held
                    }
                  })
              .build();
      long heapBefore = heapAfterGc();
      int threadsBefore = THREADS.getThreadCount();
      THREADS.resetPeakThreadCount();
      AtomicReference<FleetResult> result = new AtomicReference<>();
      long start = System.nanoTime();
      Thread fleet = new Thread(() -> result.set(pipeline.onboardAll(refs)), "benchmark-fleet");
      fleet.start();
      arrived.await(10, TimeUnit.MINUTES);
      int inFlight = held.get();
      int threadsInFlight = THREADS.getThreadCount();
      Map<String, Integer> groups = threadGroups();
      long heapInFlight = heapAfterGc();
      release.countDown();
      fleet.join();
      double seconds = (System.nanoTime() - start) / 1e9;
      int failures = result.get().failures().size();
      result.get().failures().stream().limit(3).forEach(f -> System.out.println("  failed: " + f));
      InFlight measured =
          new InFlight(
              count,
              inFlight,
              threadsBefore,
              threadsInFlight,
              THREADS.getPeakThreadCount(),
              groups,
              heapBefore,
              heapInFlight,
              seconds,
              failures);
      System.out.printf(
          Locale.ROOT,
          "  embedded x%d, %d in flight: threads %d before, %d in flight (peak %d): %s; heap after"
              + " GC %.1f MB before, %.1f MB in flight; %.1f s, failed %d%n",
          count,
          inFlight,
          threadsBefore,
          threadsInFlight,
          measured.peakThreads(),
          groups,
          heapBefore / 1e6,
          heapInFlight / 1e6,
          seconds,
          failures);
      return measured;
    }
  }

  /** Live threads by name, digits dropped: what kinds of threads there are, and how many. */
  private static Map<String, Integer> threadGroups() {
    Map<String, Integer> groups = new TreeMap<>();
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null) {
        groups.merge(info.getThreadName().replaceAll("[0-9.:]+", "#"), 1, Integer::sum);
      }
    }
    groups.values().removeIf(n -> n < 3); // the JVM's own and the benchmark's few
    return groups;
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void printSummary(List<Row> rows, InFlight held, int delay) {
    System.out.println();
    System.out.println(
        "Summary: ms/VM wall; efficiency = replay time / sdk time; cpu = this JVM's CPU per VM"
            + " (clients only; JIT compiler threads left out), thr = CPU per VM of the threads that"
            + " ran the VMs (no JIT, GC or JSch reader threads); rt = exchanges per VM after the login (relay; login = "
            + rows.stream()
                .filter(r -> r.logins() != null)
                .findFirst()
                .map(r -> String.format(Locale.ROOT, "%.1f", r.logins().exchangesPerVm()))
                .orElse("-")
            + " exchanges)");
    System.out.printf(
        Locale.ROOT,
        "%-14s %4s %8s %8s %8s %6s %6s %8s %8s %6s %8s %8s %6s %6s %6s %6s %7s %7s %6s%n",
        "network",
        "conc",
        "old ms",
        "sdk ms",
        "replay",
        "effic.",
        "x old",
        "sdk cpu",
        "rep cpu",
        "cpu x",
        "sdk thr",
        "rep thr",
        "thr x",
        "rt sdk",
        "rt rep",
        "rt old",
        "thr sdk",
        "thr rep",
        "fail");
    for (Row r : rows) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %4d %8.1f %8.1f %8.1f %6.2f %6.2f %8.2f %8.2f %6.2f %8.2f %8.2f %6.2f %6s %6s %6s"
              + " %7d %7d %6d%n",
          r.network().replace(" each way", ""),
          r.concurrency(),
          r.old().msPerVm(),
          r.sdk().msPerVm(),
          r.replay().msPerVm(),
          r.replay().seconds() / r.sdk().seconds(),
          r.old().seconds() / r.sdk().seconds(),
          r.sdk().cpuPerVm(),
          r.replay().cpuPerVm(),
          r.sdk().cpuPerVm() / r.replay().cpuPerVm(),
          r.sdk().runCpuPerVm(),
          r.replay().runCpuPerVm(),
          r.sdk().runCpuPerVm() / r.replay().runCpuPerVm(),
          afterLogin(r.sdk(), r.logins()),
          afterLogin(r.replay(), r.logins()),
          afterLogin(r.old(), r.logins()),
          r.sdk().peakThreads(),
          r.replay().peakThreads(),
          r.old().failures() + r.sdk().failures() + r.replay().failures());
    }
    if (!rows.isEmpty()) {
      Row first = rows.get(0);
      System.out.printf(
          Locale.ROOT,
          "same work: %.0f bytes in %.1f chunks per VM over 1 channel (recorded from the sdk)%n",
          first.bytesPerVm(),
          first.chunksPerVm());
    }
    if (held != null) {
      System.out.printf(
          Locale.ROOT,
          "in flight: %d of %d VMs at concurrency %d (embedded MINA SSHD, other process): threads"
              + " %d (%d before, +%d = %.2f per VM in flight), peak %d; heap %.1f KB per VM in"
              + " flight (after GC); %.1f s, failed %d%n",
          held.inFlight(),
          held.count(),
          held.count(),
          held.threadsInFlight(),
          held.threadsBefore(),
          held.threadsInFlight() - held.threadsBefore(),
          (double) (held.threadsInFlight() - held.threadsBefore()) / Math.max(1, held.inFlight()),
          held.peakThreads(),
          (held.heapInFlight() - held.heapBefore()) / 1024.0 / Math.max(1, held.inFlight()),
          held.seconds(),
          held.failures());
    }
  }

  private static String afterLogin(Measure m, Measure logins) {
    if (logins == null) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.1f", m.exchangesPerVm() - logins.exchangesPerVm());
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  /**
   * An {@link EmbeddedVm} in a process of its own ({@link Forked}): argument the client's public
   * key line; prints {@code PORT<tab>ROOT<tab>KNOWN_HOSTS_LINE}; ends at the end of its input.
   */
  public static final class VmServer {
    private VmServer() {}

    /** Serves until standard input ends. */
    public static void main(String[] args) throws IOException {
      try (EmbeddedVm vm = EmbeddedVm.builder().authorizedKey(args[0]).start()) {
        System.out.println(vm.port() + "\t" + vm.root() + "\t" + vm.knownHostsLine());
        System.out.flush();
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
          System.out.println("ok");
          System.out.flush();
        }
      }
    }
  }
}
