package dev.vmonboard.core;

import java.util.List;

/**
 * Stage 2: obtains a short-lived bootstrap token for one workload's ServiceAccount.
 *
 * <p>The default implementation, {@code ServiceAccountTokenIssuer} in {@code onboarding-k8s}, uses
 * the Kubernetes TokenRequest API. One token per workload, never one shared by every VM of an
 * account. Implementations must be thread-safe and must never put the token in a log line or an
 * exception message.
 */
public interface TokenIssuer {

  /** A token for {@code workload}'s ServiceAccount, with the expiry the issuer granted. */
  BootstrapToken issue(Workload workload, TokenRequest request);

  /** What {@link #issue} would ask for, for dry runs. No side effect, no secret. */
  default List<String> describe(Workload workload, TokenRequest request) {
    return List.of(
        "request a token for service account "
            + workload.namespace()
            + "/"
            + workload.serviceAccount().orElse("?")
            + " (audience "
            + request.audience()
            + ", lifetime "
            + request.lifetime()
            + ")");
  }
}
