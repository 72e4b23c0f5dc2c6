package dev.vmonboard.core.testing;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link Transport} that keeps the bundle of each target (by host, port and directory) in memory.
 * A delivery replaces the previous bundle entirely or, when a fault strikes, not at all, and keeps
 * the bundle it replaced for {@link #restorePrevious} until {@link #discardPrevious}, the next
 * delivery or {@link #remove}, as {@code SshTransport} does.
 */
public final class InMemoryTransport extends InMemoryStage implements Transport {

  private final Map<String, Bundle> delivered = new ConcurrentHashMap<>();
  private final Map<String, Bundle> previous = new ConcurrentHashMap<>();
  private final Queue<Bundle> deliveries = new ConcurrentLinkedQueue<>();
  private final Queue<Bundle> tokenDeliveries = new ConcurrentLinkedQueue<>();

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
          Bundle replaced = delivered.put(key(target), bundle);
          if (replaced == null) {
            previous.remove(key(target));
          } else {
            previous.put(key(target), replaced);
          }
          return null;
        });
  }

  /** Replaces the token and the record of the bundle {@code target} holds; nothing else. */
  @Override
  public void deliverToken(Bundle bundle, Target target, StageContext context) {
    call(
        "deliverToken",
        context.workload(),
        () -> {
          Bundle current = delivered.get(key(target));
          if (current == null) {
            throw StageException.permanent(
                "no bundle on " + target + " to refresh the token of", "onboard the VM first");
          }
          Bundle refreshed = current;
          for (BundleFile file : bundle.files()) {
            if (file.path().equals(bundle.tokenPath())
                || file.path().equals(BootstrapRecord.FILE)) {
              refreshed = replace(refreshed, file);
            }
          }
          tokenDeliveries.add(bundle);
          delivered.put(key(target), refreshed);
          return null;
        });
  }

  /** Every token-only delivery, in order. */
  public List<Bundle> tokenDeliveries() {
    return List.copyOf(tokenDeliveries);
  }

  private static Bundle replace(Bundle bundle, BundleFile file) {
    List<BundleFile> files = new ArrayList<>();
    for (BundleFile existing : bundle.files()) {
      if (!existing.path().equals(file.path())) {
        files.add(existing);
      }
    }
    files.add(file);
    return Bundle.builder().from(bundle).files(files).build();
  }

  @Override
  public void remove(Target target, StageContext context) {
    undo("remove", context.workload(), () -> forget(delivered, previous, key(target)));
  }

  @Override
  public boolean restorePrevious(Target target, StageContext context) {
    return rollback(
        "restorePrevious", context.workload(), () -> putBack(previous, delivered, key(target)));
  }

  @Override
  public void discardPrevious(Target target, StageContext context) {
    rollback("discardPrevious", context.workload(), () -> previous.remove(key(target)));
  }

  /** The bundle {@code target} holds now. */
  public Optional<Bundle> bundleAt(Target target) {
    return Optional.ofNullable(delivered.get(key(target)));
  }

  /** The bundle kept for a rollback of {@code target}: the one the last delivery replaced. */
  public Optional<Bundle> previousAt(Target target) {
    return Optional.ofNullable(previous.get(key(target)));
  }

  /** Every bundle delivered, in order. */
  public List<Bundle> deliveries() {
    return List.copyOf(deliveries);
  }

  private static String key(Target target) {
    return target.host() + ":" + target.port() + ":" + target.configDir();
  }
}
