package dev.vmonboard.k8s;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TokenIssuer;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestStatus;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link TokenIssuer}: asks the Kubernetes TokenRequest API for a token of the
 * workload's ServiceAccount, with the requested audience ({@code istio-ca} by default) and
 * lifetime.
 *
 * <p>Every call requests a new token, so every VM gets its own, never one shared by all VMs of an
 * account. The expiry is the one the API server granted (it may shorten the lifetime), read from
 * its answer. A missing ServiceAccount is a {@link NotFoundException} naming it; a 403 names the
 * permission ({@code create} on {@code serviceaccounts/token} in the namespace). The token never
 * appears in a log line or an exception. Thread-safe.
 */
public final class ServiceAccountTokenIssuer implements TokenIssuer {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceAccountTokenIssuer.class);

  private final KubernetesCluster cluster;

  private ServiceAccountTokenIssuer(KubernetesCluster cluster) {
    this.cluster = cluster;
  }

  /** An issuer asking {@code cluster}'s TokenRequest API. */
  public static ServiceAccountTokenIssuer create(KubernetesCluster cluster) {
    return new ServiceAccountTokenIssuer(Objects.requireNonNull(cluster, "cluster"));
  }

  @Override
  public BootstrapToken issue(Workload workload, TokenRequest request) {
    String account =
        workload
            .serviceAccount()
            .filter(name -> !name.isBlank())
            .orElseThrow(
                () ->
                    InvalidInputException.of(
                        workload.ref(),
                        "workload",
                        Problem.of(
                            "spec.serviceAccount",
                            "is missing; the token is issued for the workload's ServiceAccount")));
    String namespace = workload.namespace();
    io.fabric8.kubernetes.api.model.authentication.TokenRequest asked =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(List.of(request.audience()))
            .withExpirationSeconds(request.lifetime().toSeconds())
            .endSpec()
            .build();
    io.fabric8.kubernetes.api.model.authentication.TokenRequest answer;
    try {
      answer =
          cluster.call(
              "create",
              "",
              "serviceaccounts/token",
              namespace,
              account,
              () ->
                  cluster
                      .client()
                      .serviceAccounts()
                      .inNamespace(namespace)
                      .withName(account)
                      .tokenRequest(asked));
    } catch (NotFoundException e) {
      throw new NotFoundException(
          "ServiceAccount "
              + namespace
              + "/"
              + account
              + " (spec.serviceAccount of "
              + workload.ref()
              + ") not found on "
              + cluster.description(),
          "create it (kubectl create serviceaccount "
              + account
              + " -n "
              + namespace
              + "), or register the workload with createServiceAccount(true)");
    }
    TokenRequestStatus status = answer == null ? null : answer.getStatus();
    if (status == null || status.getToken() == null || status.getToken().isEmpty()) {
      throw StageException.permanent(
          "the TokenRequest for ServiceAccount "
              + namespace
              + "/"
              + account
              + " on "
              + cluster.description()
              + " returned no token",
          "check that the API server supports the TokenRequest API (Kubernetes 1.20 or later)");
    }
    Instant expiry;
    try {
      expiry = Instant.parse(String.valueOf(status.getExpirationTimestamp()));
    } catch (DateTimeParseException e) {
      throw StageException.permanent(
          "the TokenRequest for ServiceAccount "
              + namespace
              + "/"
              + account
              + " returned an unreadable expiry '"
              + status.getExpirationTimestamp()
              + "'",
          null);
    }
    LOG.debug(
        "issued a token for {}/{} (workload {}), audience {}, expires {}",
        namespace,
        account,
        workload.ref(),
        request.audience(),
        expiry);
    return BootstrapToken.of(status.getToken(), request.audience(), expiry);
  }
}
