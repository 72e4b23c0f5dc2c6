package dev.vmonboard.reliability;

import dev.vmonboard.core.FleetResult;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.NoSecretsInOutput;
import dev.vmonboard.ssh.EmbeddedVm;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One fleet run of many embedded VMs (500 by default) through the SDK's default stages, with a
 * share of them (10% by default) failing in three ways: the SSH port refuses connections, the VM
 * does not accept the client key, the proxy container exits at once. Checks that exactly the
 * failing ones are reported, each with its cause and stage, that the rest succeed, that every VM
 * holds its own bundle and token and no other's, and that no secret reached the log; prints the
 * peak threads (the SDK's own, and all of the JVM's, which include the embedded VMs' servers) and
 * the peak heap. Exits non-zero when a check fails. Not a test: run it by hand.
 *
 * <pre>
 * mvn -B -pl onboarding-examples -am test-compile -Pfleet-load [-Dload.args="500 10 16"]
 * </pre>
 *
 * <p>Arguments: {@code [vms (500)] [failingPercent (10)] [concurrency (16)]}.
 */
public final class FleetLoadBenchmark {

  private enum Fault {
    REFUSED("DELIVER", "Connection refused"),
    BAD_KEY("DELIVER", "accepted none of the keys"),
    CONTAINER_EXITS("LAUNCH", "is exited");

    final String stage;
    final String cause;

    Fault(String stage, String cause) {
      this.stage = stage;
      this.cause = cause;
    }
  }

  private FleetLoadBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int failingPercent = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    Path dir = Files.createTempDirectory("vmonboard-load-");
    List<String> problems = new ArrayList<>();
    long setUp = System.nanoTime();
    try (Rig rig = Rig.start(dir)) {
      Path strangerKey = dir.resolve("id_stranger");
      String strangerLine = Rig.clientKey(strangerKey);
      Map<String, Fault> faults = new TreeMap<>();
      Map<String, EmbeddedVm> vms = new LinkedHashMap<>();
      Map<String, String> addresses = new LinkedHashMap<>();
      int failing = count * failingPercent / 100;
      for (int i = 0; i < count; i++) {
        String name = String.format(Locale.ROOT, "vm-%03d", i);
        String address = "10.2." + (i / 250) + "." + (i % 250 + 1);
        addresses.put(name, address);
        Fault fault =
            i % (count / Math.max(1, failing)) == 0 && faults.size() < failing
                ? Fault.values()[faults.size() % 3]
                : null;
        Map<String, String> annotations;
        if (fault == Fault.REFUSED) {
          annotations = Rig.refusing(dir.resolve(name));
        } else {
          EmbeddedVm vm = fault == Fault.BAD_KEY ? rig.vm(strangerLine) : rig.vm();
          if (fault == Fault.CONTAINER_EXITS) {
            vm.containerExitsAtOnce("istio-proxy");
          }
          vms.put(name, vm);
          annotations = Rig.reach(vm);
        }
        if (fault != null) {
          faults.put(name, fault);
        }
        rig.entry(name, Rig.spec(address, name), annotations);
      }
      System.out.printf(
          Locale.ROOT,
          "%d VMs (%d failing: %s), concurrency %d; set up in %d s%n",
          count,
          faults.size(),
          countBy(faults),
          concurrency,
          (System.nanoTime() - setUp) / 1_000_000_000);

      OnboardingPipeline pipeline =
          rig.pipeline(Duration.ofSeconds(20))
              .concurrency(concurrency)
              .retryPolicy(new RetryPolicy(3, Duration.ofMillis(200), Duration.ofSeconds(2)))
              .stageTimeout(Duration.ofSeconds(60))
              .build();
      Peaks peaks = Peaks.start();
      long start = System.nanoTime();
      FleetResult fleet = pipeline.onboardAll(WorkloadSelector.inNamespace(Rig.NS));
      long millis = (System.nanoTime() - start) / 1_000_000;
      peaks.stop();

      Map<String, OnboardingResult> failed = new TreeMap<>();
      for (OnboardingResult result : fleet.failures()) {
        failed.put(result.workload().name(), result);
      }
      if (!failed.keySet().equals(faults.keySet())) {
        problems.add("failed " + failed.keySet() + " but expected " + faults.keySet());
      }
      for (Map.Entry<String, Fault> expected : faults.entrySet()) {
        OnboardingResult result = failed.get(expected.getKey());
        if (result == null) {
          continue;
        }
        String message = result.failure().orElseThrow().getMessage();
        String stage = result.failedStage().map(Stage::name).orElse("?");
        if (!stage.equals(expected.getValue().stage)
            || !message.contains(expected.getValue().cause)
            || !message.contains(WorkloadRef.of(Rig.NS, expected.getKey()).toString())) {
          problems.add(expected.getKey() + " failed at " + stage + " with: " + message);
        }
      }
      Set<String> tokens = new HashSet<>();
      for (Map.Entry<String, EmbeddedVm> vm : vms.entrySet()) {
        if (faults.containsKey(vm.getKey())) {
          continue;
        }
        Path config = Rig.configDir(vm.getValue());
        String env = Files.readString(config.resolve("sidecar.env"));
        boolean own =
            env.contains("\nPOD_NAME=" + vm.getKey() + "-")
                && env.contains("\nINSTANCE_IP=" + addresses.get(vm.getKey()) + "\n");
        if (!own) {
          problems.add(vm.getKey() + " holds another VM's bundle");
        }
        if (!tokens.add(Files.readString(config.resolve(ContainerBundleFactory.TOKEN)))) {
          problems.add(vm.getKey() + " holds a token another VM holds too");
        }
        try (var siblings = Files.list(config.getParent())) {
          long bundles =
              siblings.filter(p -> !p.getFileName().toString().endsWith("-certs")).count();
          if (bundles != 1) {
            problems.add(vm.getKey() + " holds " + bundles + " entries next to its config dir");
          }
        }
      }
      List<String> leaks =
          Canary.found(Files.readString(NoSecretsInOutput.logFile().orElseThrow()));
      if (!leaks.isEmpty()) {
        problems.add("secrets in " + NoSecretsInOutput.logFile().orElseThrow() + ": " + leaks);
      }

      System.out.printf(
          Locale.ROOT,
          "fleet run: %d ms (%.1f VMs/s); %d succeeded, %d failed as injected%n",
          millis,
          count * 1000.0 / millis,
          fleet.successCount(),
          fleet.failures().size());
      System.out.printf(
          Locale.ROOT,
          "peak threads: %d in the JVM (embedded VMs' servers included), of them SDK: %d fleet"
              + " worker threads, %d SSH client threads; peak heap used %d MiB (max %d MiB)%n",
          peaks.threads,
          peaks.peak("vmonboard-fleet-"),
          peaks.peak("Connect thread"),
          peaks.heap.get() >> 20,
          Runtime.getRuntime().maxMemory() >> 20);
      System.out.println("distinct tokens on succeeded VMs: " + tokens.size());
    }
    if (!problems.isEmpty()) {
      problems.stream().limit(20).forEach(p -> System.out.println("PROBLEM: " + p));
      System.out.println("FAILED: " + problems.size() + " problem(s)");
      System.exit(1);
    }
    System.out.println(
        "OK: exactly the injected failures, each with its cause; no bundle mixed up");
    System.exit(0);
  }

  private static Map<Fault, Integer> countBy(Map<String, Fault> faults) {
    Map<Fault, Integer> counts = new TreeMap<>();
    faults.values().forEach(f -> counts.merge(f, 1, Integer::sum));
    return counts;
  }

  /** Samples threads (by name prefix) and heap every 50 ms. */
  private static final class Peaks {
    private final Map<String, Integer> byPrefix = new ConcurrentHashMap<>();
    private final AtomicLong heap = new AtomicLong();
    private volatile boolean running = true;
    private int threads;
    private Thread sampler;

    static Peaks start() {
      Peaks peaks = new Peaks();
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      mx.resetPeakThreadCount();
      peaks.sampler =
          new Thread(
              () -> {
                while (peaks.running) {
                  Map<String, Integer> now = new TreeMap<>();
                  for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
                    if (info != null) {
                      for (String prefix : List.of("vmonboard-fleet-", "Connect thread")) {
                        if (info.getThreadName().startsWith(prefix)) {
                          now.merge(prefix, 1, Integer::sum);
                        }
                      }
                    }
                  }
                  now.forEach((k, v) -> peaks.byPrefix.merge(k, v, Math::max));
                  peaks.heap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "load-sampler");
      peaks.sampler.setDaemon(true);
      peaks.sampler.start();
      return peaks;
    }

    void stop() throws InterruptedException {
      running = false;
      sampler.join();
      threads = ManagementFactory.getThreadMXBean().getPeakThreadCount();
    }

    int peak(String prefix) {
      return byPrefix.getOrDefault(prefix, 0);
    }
  }
}
