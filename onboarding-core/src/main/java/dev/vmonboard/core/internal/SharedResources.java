package dev.vmonboard.core.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The resources one workload's run shares between stages; closed in reverse order of opening. */
public final class SharedResources implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SharedResources.class);

  private final Map<Class<?>, AutoCloseable> open = new LinkedHashMap<>();
  private boolean closed;

  /** The resource of {@code type}, opened by {@code opener} the first time. */
  public synchronized <T extends AutoCloseable> T get(Class<T> type, Supplier<? extends T> opener) {
    if (closed) {
      throw new IllegalStateException("the run has ended; its resources are closed");
    }
    AutoCloseable existing = open.get(type);
    if (existing != null) {
      return type.cast(existing);
    }
    T created = opener.get();
    open.put(type, created);
    return created;
  }

  /** Closes everything opened, last first; a failure to close is logged, not thrown. */
  @Override
  public void close() {
    List<AutoCloseable> toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = new ArrayList<>(open.values());
      open.clear();
    }
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        LOG.warn("closing {} failed: {}", toClose.get(i).getClass().getSimpleName(), e.toString());
      }
    }
  }
}
