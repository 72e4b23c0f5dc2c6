package dev.vmonboard.core.testing;

import dev.vmonboard.core.BundleFactory;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.mesh.MeshConfigSource;
import dev.vmonboard.core.mesh.MeshSnapshot;
import java.time.Clock;
import java.time.Duration;

/**
 * The four in-memory stages sharing one {@link CallLog}, for unit-testing onboarding code without a
 * cluster or a VM:
 *
 * <pre>{@code
 * InMemoryStages stages = InMemoryStages.create();
 * stages.registrar().add(myWorkload);
 * OnboardingPipeline pipeline = stages.pipelineBuilder(myBundleFactory, TestMeshes.typical()).build();
 * stages.transport().failWith(Fault.failOnce("disk full"));
 * }</pre>
 */
public final class InMemoryStages {

  private final CallLog log = new CallLog();
  private final InMemoryRegistrar registrar = new InMemoryRegistrar(log);
  private final InMemoryTokenIssuer tokenIssuer;
  private final InMemoryTransport transport = new InMemoryTransport(log);
  private final InMemoryProxyLauncher launcher = new InMemoryProxyLauncher(log);

  private InMemoryStages(Clock clock) {
    this.tokenIssuer = new InMemoryTokenIssuer(log, Canary.SECRET, clock);
  }

  /** Fresh stages on the system clock; token secrets start with {@link Canary#SECRET}. */
  public static InMemoryStages create() {
    return new InMemoryStages(Clock.systemUTC());
  }

  /** Fresh stages whose tokens expire by {@code clock}. */
  public static InMemoryStages create(Clock clock) {
    return new InMemoryStages(clock);
  }

  /** The registrar. */
  public InMemoryRegistrar registrar() {
    return registrar;
  }

  /** The token issuer. */
  public InMemoryTokenIssuer tokenIssuer() {
    return tokenIssuer;
  }

  /** The transport. */
  public InMemoryTransport transport() {
    return transport;
  }

  /** The launcher. */
  public InMemoryProxyLauncher launcher() {
    return launcher;
  }

  /** Every call the four stages received, in order. */
  public CallLog log() {
    return log;
  }

  /**
   * A pipeline builder with the four stages, {@code bundleFactory}, a fixed {@code mesh}, and quick
   * retries (3 attempts, 1 ms apart) so that tests of transient failures stay fast.
   */
  public OnboardingPipeline.Builder pipelineBuilder(
      BundleFactory bundleFactory, MeshSnapshot mesh) {
    return OnboardingPipeline.builder()
        .registrar(registrar)
        .tokenIssuer(tokenIssuer)
        .meshSource(MeshConfigSource.fixed(mesh))
        .bundleFactory(bundleFactory)
        .transport(transport)
        .launcher(launcher)
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5)));
  }
}
