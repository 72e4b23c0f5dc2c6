package dev.vmonboard.core.testing;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link Transport} that keeps the bundle of each target (by host, port and directory) in memory.
 * A delivery replaces the previous bundle entirely or, when a fault strikes, not at all.
 */
public final class InMemoryTransport extends InMemoryStage implements Transport {

  private final Map<String, Bundle> delivered = new ConcurrentHashMap<>();
  private final List<Bundle> deliveries = new CopyOnWriteArrayList<>();

  /** A transport recording into {@code log}. */
  public InMemoryTransport(CallLog log) {
    super("Transport", log);
  }

  /** A transport with its own log. */
  public InMemoryTransport() {
    this(new CallLog());
  }

  @Override
  public void deliver(Bundle bundle, Target target, StageContext context) {
    call(
        "deliver",
        context.workload(),
        () -> {
          deliveries.add(bundle);
          delivered.put(key(target), bundle);
          return null;
        });
  }

  @Override
  public void remove(Target target, StageContext context) {
    undo("remove", context.workload(), () -> delivered.remove(key(target)));
  }

  /** The bundle {@code target} holds now. */
  public Optional<Bundle> bundleAt(Target target) {
    return Optional.ofNullable(delivered.get(key(target)));
  }

  /** Every bundle delivered, in order. */
  public List<Bundle> deliveries() {
    return List.copyOf(deliveries);
  }

  private static String key(Target target) {
    return target.host() + ":" + target.port() + ":" + target.configDir();
  }
}
