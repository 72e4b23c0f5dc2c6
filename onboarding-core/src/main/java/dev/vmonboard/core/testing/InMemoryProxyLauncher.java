package dev.vmonboard.core.testing;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ProxyLauncher} whose proxies live in memory, by target host and port: launched ones are
 * ready, removed ones absent. Counts launches per host.
 *
 * <p>As {@code ContainerProxyLauncher} does, a launch first stops the running proxy and keeps it
 * for {@link #restorePrevious} (until {@link #discardPrevious}, the next launch that replaces a
 * running proxy, or {@link #remove}), then starts the new one; a fault injected into the launch
 * strikes after the old proxy was stopped, so a failed launch leaves no proxy running.
 */
public final class InMemoryProxyLauncher extends InMemoryStage implements ProxyLauncher {

  private final Map<String, String> running = new ConcurrentHashMap<>();
  private final Map<String, String> previous = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> launches = new ConcurrentHashMap<>();

  /** A launcher recording into {@code log}. */
  public InMemoryProxyLauncher(CallLog log) {
    super("ProxyLauncher", log);
  }

  /** A launcher with its own log. */
  public InMemoryProxyLauncher() {
    this(new CallLog());
  }

  @Override
  public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
    String old = running.remove(key(target));
    if (old != null) {
      previous.put(key(target), old);
    }
    return call(
        "launch",
        context.workload(),
        () -> {
          running.put(key(target), bundle.contentHash());
          launches.computeIfAbsent(key(target), k -> new AtomicInteger()).incrementAndGet();
          return ProxyStatus.of(ProxyStatus.State.READY, "in-memory proxy of " + bundle.workload());
        });
  }

  @Override
  public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
    return call(
        "status",
        context.workload(),
        () ->
            running.containsKey(key(target))
                ? ProxyStatus.of(ProxyStatus.State.READY, "in-memory proxy running")
                : ProxyStatus.of(ProxyStatus.State.ABSENT, "no in-memory proxy"));
  }

  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {
    undo("remove", context.workload(), () -> forget(running, previous, key(target)));
  }

  @Override
  public boolean restorePrevious(Bundle bundle, Target target, StageContext context) {
    return rollback(
        "restorePrevious", context.workload(), () -> putBack(previous, running, key(target)));
  }

  @Override
  public void discardPrevious(Bundle bundle, Target target, StageContext context) {
    rollback("discardPrevious", context.workload(), () -> previous.remove(key(target)));
  }

  /** Whether a proxy runs on {@code target}. */
  public boolean isRunning(Target target) {
    return running.containsKey(key(target));
  }

  /** The content hash of the bundle whose proxy runs on {@code target}, if one runs. */
  public Optional<String> runningBundleHash(Target target) {
    return Optional.ofNullable(running.get(key(target)));
  }

  /** Whether a stopped proxy is kept on {@code target} for a rollback. */
  public boolean keepsPrevious(Target target) {
    return previous.containsKey(key(target));
  }

  /** How many times a proxy was launched on {@code target}. */
  public int launchCount(Target target) {
    AtomicInteger count = launches.get(key(target));
    return count == null ? 0 : count.get();
  }

  private static String key(Target target) {
    return target.host() + ":" + target.port();
  }
}
