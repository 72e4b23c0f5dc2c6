package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline the controller runs: the Kubernetes stages of its cluster, the caller's bundle
 * factory and options, and the VM stages the caller's factory builds from the credentials Secret.
 * The Secret is watched; a pipeline is built on first use and again after the Secret changes.
 */
final class Pipelines implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Pipelines.class);

  private final ControllerSettings settings;
  private final KubernetesRegistrar registrar;
  private final ServiceAccountTokenIssuer tokenIssuer;
  private final RecentMesh meshSource;
  private final SharedIndexInformer<Secret> secret;
  private Built built;

  /**
   * The pipelines built with one version of the credentials: one to onboard and offboard, whose
   * CHECK stage leaves a token alone until the refresh margin; one to refresh tokens, which
   * replaces a token from the start of the refresh window on (the controller decides when).
   */
  private record Built(String version, OnboardingPipeline pipeline, OnboardingPipeline refresher) {}

  Pipelines(ControllerSettings settings) {
    this.settings = settings;
    this.registrar = KubernetesRegistrar.create(settings.cluster());
    this.tokenIssuer = ServiceAccountTokenIssuer.create(settings.cluster());
    this.meshSource =
        new RecentMesh(KubernetesMeshDiscovery.create(settings.cluster()), System::nanoTime);
    this.secret =
        settings
            .credentialsSecret()
            .map(
                name ->
                    settings
                        .cluster()
                        .client()
                        .secrets()
                        .inNamespace(name.namespace())
                        .withName(name.name())
                        .runnableInformer(0))
            .orElse(null);
  }

  /** Starts watching the Secret, if there is one. */
  void start() {
    if (secret != null) {
      secret.exceptionHandler(
          (started, failure) -> {
            LOG.debug("watch of the credentials Secret failed; retrying", failure);
            return true;
          });
      secret.start();
    }
  }

  /** Whether the credentials Secret, if there is one, is watched (its first list done). */
  boolean isWatching() {
    return secret == null || secret.isWatching();
  }

  /**
   * The pipeline for the current credentials.
   *
   * @throws IllegalStateException saying what is wrong with the Secret, or what the caller's
   *     factory refused
   */
  OnboardingPipeline current() {
    return built().pipeline();
  }

  /** The pipeline that refreshes tokens, for the current credentials (throws as current does). */
  OnboardingPipeline refreshing() {
    return built().refresher();
  }

  private synchronized Built built() {
    VmCredentials credentials = credentials();
    if (built == null || !built.version().equals(credentials.version())) {
      if (built != null) {
        LOG.info("credentials changed ({}): new runs use them", credentials.source());
      }
      VmStages stages = stages(credentials);
      built =
          new Built(
              credentials.version(),
              build(stages, settings.tokenRefreshMargin()),
              build(stages, settings.refreshWindowStart()));
    }
    return built;
  }

  private VmCredentials credentials() {
    if (secret == null) {
      return VmCredentials.none();
    }
    ControllerSettings.SecretName name = settings.credentialsSecret().orElseThrow();
    Secret current = secret.getStore().getByKey(name.toString());
    if (current != null) {
      return VmCredentials.fromSecret(current);
    }
    if (!secret.hasSynced()) {
      throw new IllegalStateException(
          "the credentials Secret " + name + " has not been read yet; trying again shortly");
    }
    throw new IllegalStateException(
        "the credentials Secret "
            + name
            + " does not exist: create it, e.g. kubectl -n "
            + name.namespace()
            + " create secret generic "
            + name.name()
            + " --from-file="
            + VmCredentials.PRIVATE_KEY
            + "=KEY --from-file="
            + VmCredentials.KNOWN_HOSTS
            + "=KNOWN_HOSTS");
  }

  private VmStages stages(VmCredentials credentials) {
    VmStages stages;
    try {
      stages = settings.vmStages().create(credentials);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot set up VM access from " + credentials.source() + ": " + e.getMessage(), e);
    }
    if (stages == null) {
      throw new IllegalStateException("the VmStagesFactory returned no stages");
    }
    return stages;
  }

  private OnboardingPipeline build(VmStages stages, Duration refreshMargin) {
    OnboardingPipeline.Builder builder = OnboardingPipeline.builder();
    settings.pipelineOptions().accept(builder);
    return builder
        .registrar(registrar)
        .tokenIssuer(tokenIssuer)
        .meshSource(meshSource)
        .bundleFactory(settings.bundleFactory())
        .transport(stages.transport())
        .launcher(stages.launcher())
        .clock(settings.clock())
        .tokenLifetime(settings.tokenLifetime())
        .tokenRefreshMargin(refreshMargin)
        .force(false)
        .build();
  }

  @Override
  public void close() {
    if (secret != null) {
      secret.stop();
    }
  }
}
