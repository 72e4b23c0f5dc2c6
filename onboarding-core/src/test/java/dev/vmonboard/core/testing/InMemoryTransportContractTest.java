package dev.vmonboard.core.testing;

import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

class InMemoryTransportContractTest extends TransportContract {

  private final InMemoryTransport transport = new InMemoryTransport();
  private final AtomicInteger targets = new AtomicInteger();

  @Override
  protected Transport transport() {
    return transport;
  }

  @Override
  protected boolean keepsPrevious() {
    return true;
  }

  @Override
  protected Target newTarget() {
    return Target.builder()
        .host("10.0.0." + targets.incrementAndGet())
        .configDir("/etc/istio-proxy")
        .build();
  }

  @Override
  protected Optional<Map<String, DeliveredFile>> readBack(Target target) {
    return transport
        .bundleAt(target)
        .map(
            bundle -> {
              Map<String, DeliveredFile> files = new LinkedHashMap<>();
              for (BundleFile file : bundle.files()) {
                files.put(file.path(), new DeliveredFile(file.mode(), file.content()));
              }
              return files;
            });
  }
}
