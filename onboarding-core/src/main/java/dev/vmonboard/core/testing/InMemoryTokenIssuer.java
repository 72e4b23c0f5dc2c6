package dev.vmonboard.core.testing;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.TokenIssuer;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import java.time.Clock;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TokenIssuer} that mints tokens in memory: {@code <prefix>-<namespace>-<name>-<n>},
 * expiring after the requested lifetime on its clock. {@link #issued()} lists what it issued.
 */
public final class InMemoryTokenIssuer extends InMemoryStage implements TokenIssuer {

  private final String secretPrefix;
  private final Clock clock;
  private final AtomicLong counter = new AtomicLong();
  private final Queue<BootstrapToken> issued = new ConcurrentLinkedQueue<>();

  /**
   * An issuer recording into {@code log}.
   *
   * @param secretPrefix starts every secret: use {@link Canary#SECRET} to check nothing leaks
   * @param clock decides expiry
   */
  public InMemoryTokenIssuer(CallLog log, String secretPrefix, Clock clock) {
    super("TokenIssuer", log);
    this.secretPrefix = secretPrefix;
    this.clock = clock;
  }

  /** An issuer whose secrets start with {@link Canary#SECRET}, on the system clock. */
  public InMemoryTokenIssuer() {
    this(new CallLog(), Canary.SECRET, Clock.systemUTC());
  }

  /** Every token issued, in order. */
  public List<BootstrapToken> issued() {
    return List.copyOf(issued);
  }

  @Override
  public BootstrapToken issue(Workload workload, TokenRequest request) {
    return call(
        "issue",
        workload.ref(),
        () -> {
          BootstrapToken token =
              BootstrapToken.of(
                  secretPrefix
                      + "-"
                      + workload.namespace()
                      + "-"
                      + workload.name()
                      + "-"
                      + counter.incrementAndGet(),
                  request.audience(),
                  clock.instant().plus(request.lifetime()));
          issued.add(token);
          return token;
        });
  }
}
