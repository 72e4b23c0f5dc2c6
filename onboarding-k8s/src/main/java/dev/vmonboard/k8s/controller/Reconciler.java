package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.OnboardingResult;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.WorkloadRef;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Brings one WorkloadEntry to where its annotations and spec say it should be, and records what
 * happened on it. Called by one worker at a time per entry.
 *
 * <ul>
 *   <li>Being deleted, with the controller's finalizer: offboard the VM, then remove the finalizer
 *       so that Kubernetes deletes the entry. An entry the pipeline cannot even prepare (invalid
 *       spec) was never onboarded: its finalizer goes at once.
 *   <li>No longer opted in, with the finalizer: remove the finalizer, leave the VM as it is.
 *   <li>Opted in: add the finalizer first (so that a deletion from now on waits for the cleanup);
 *       replace the token when the recorded one expires within the refresh margin (token only, the
 *       proxy keeps running); onboard when the entry changed since its last successful onboarding,
 *       when a refresh failed, or on a periodic resync (the pipeline's CHECK stage makes an
 *       up-to-date VM cost one status probe).
 * </ul>
 */
final class Reconciler {

  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
  private static final int MAX_ERROR_LENGTH = 1024;

  /** How a reconcile ended: done, or to be tried again after a backoff. */
  record Outcome(boolean retry, int failures, String reason) {
    static final Outcome DONE = new Outcome(false, 0, null);
  }

  /** What the controller remembers of an entry between reconciles (lost on failover: harmless). */
  private static final class EntryState {
    /** The fingerprint of the entry as last onboarded successfully. */
    volatile String onboarded;

    volatile int failures;
  }

  private final ControllerSettings settings;
  private final Pipelines pipelines;
  private final Function<String, GenericKubernetesResource> cache;
  private final EntryWriter writer;
  private final KubernetesSerialization json;
  private final Map<String, EntryState> states = new ConcurrentHashMap<>();

  Reconciler(
      ControllerSettings settings,
      Pipelines pipelines,
      Function<String, GenericKubernetesResource> cache) {
    this.settings = settings;
    this.pipelines = pipelines;
    this.cache = cache;
    this.writer = new EntryWriter(settings.cluster());
    this.json = settings.cluster().client().getKubernetesSerialization();
  }

  /** Reconciles the entry {@code key} ({@code namespace/name}) as the informer cache holds it. */
  Outcome reconcile(String key) {
    GenericKubernetesResource entry = cache.apply(key);
    if (entry == null) {
      states.remove(key);
      return Outcome.DONE;
    }
    WorkloadRef ref = Entries.ref(key);
    EntryState state = states.computeIfAbsent(key, k -> new EntryState());
    MDC.put("workload", key);
    try {
      Optional<String> failure = reconcile(ref, entry, state);
      if (failure.isEmpty()) {
        state.failures = 0;
        return Outcome.DONE;
      }
      state.failures++;
      return new Outcome(true, state.failures, failure.get());
    } catch (RuntimeException e) {
      state.failures++;
      String reason = String.valueOf(e.getMessage());
      LOG.debug("reconciling {} failed", ref, e);
      if (!Thread.currentThread().isInterrupted()) {
        recordFailure(ref, entry, reason, state.failures);
      }
      return new Outcome(true, state.failures, reason);
    } finally {
      MDC.remove("workload");
    }
  }

  /** Forgets what the controller knew of {@code key}'s last onboarding (resync, deletion). */
  void forget(String key, boolean everything) {
    if (everything) {
      states.remove(key);
    } else {
      EntryState state = states.get(key);
      if (state != null) {
        state.onboarded = null;
      }
    }
  }

  /**
   * Whether the token recorded on {@code entry} is due for replacement: from {@link
   * ControllerSettings#refreshWindowStart()} before its expiry (half the lifetime) to the refresh
   * margin before it, at the point {@code fraction} (0 to 1, from a hash of the entry) of that
   * window, so that tokens issued together are replaced over the window instead of all at once.
   */
  boolean tokenDue(GenericKubernetesResource entry, double fraction) {
    Optional<BootstrapRecord> record = Entries.record(entry);
    if (record.isEmpty()) {
      return false;
    }
    Instant expires = record.get().tokenExpiresAt();
    Duration window = settings.refreshWindowStart().minus(settings.tokenRefreshMargin());
    Instant due =
        expires
            .minus(settings.refreshWindowStart())
            .plusMillis((long) (window.toMillis() * fraction));
    return !settings.clock().instant().isBefore(due);
  }

  private Optional<String> reconcile(
      WorkloadRef ref, GenericKubernetesResource entry, EntryState state) {
    if (Entries.isDeleting(entry)) {
      return Entries.hasFinalizer(entry) ? offboard(ref, state) : Optional.empty();
    }
    if (!Entries.isManaged(entry)) {
      if (Entries.hasFinalizer(entry)) {
        removeFinalizer(ref);
        LOG.info(
            "{} is no longer annotated {}=true: finalizer removed, VM left as it is",
            ref,
            OnboardingController.MANAGED_ANNOTATION);
      }
      states.remove(ref.toString());
      return Optional.empty();
    }
    if (!Entries.hasFinalizer(entry)) {
      writer.update(
          ref,
          "add the finalizer " + OnboardingController.FINALIZER,
          metadata -> {
            List<String> finalizers =
                new ArrayList<>(
                    metadata.getFinalizers() == null ? List.of() : metadata.getFinalizers());
            if (finalizers.contains(OnboardingController.FINALIZER)) {
              return false;
            }
            finalizers.add(OnboardingController.FINALIZER);
            metadata.setFinalizers(finalizers);
            return true;
          },
          entry);
    }
    OnboardingPipeline pipeline = pipelines.current();
    boolean refreshFailed = false;
    if (tokenDue(entry, EntryHash.of(ref.toString(), 1).fraction())) {
      OnboardingResult refreshed = pipelines.refreshing().refreshToken(ref);
      report(ref, refreshed, state);
      refreshFailed = !refreshed.isSuccess();
    }
    String fingerprint = Entries.fingerprint(entry, json);
    if (!refreshFailed && fingerprint.equals(state.onboarded)) {
      return Optional.empty();
    }
    OnboardingResult result = pipeline.onboard(ref);
    report(ref, result, state);
    if (!result.isSuccess()) {
      state.onboarded = null;
      return Optional.of(failureOf(result));
    }
    state.onboarded = fingerprint;
    return Optional.empty();
  }

  private Optional<String> offboard(WorkloadRef ref, EntryState state) {
    OnboardingResult result = pipelines.current().offboard(ref);
    emitReconciled(ref, result);
    if (!result.isSuccess()) {
      if (result.failedStage().orElse(null) == Stage.PREPARE) {
        // Nothing was ever delivered for an entry the pipeline cannot prepare: nothing to clean.
        LOG.warn(
            "{} cannot be offboarded ({}); it was never onboarded, so its finalizer is removed",
            ref,
            failureOf(result));
      } else {
        String failure =
            failureOf(result)
                + " (to delete the entry without cleaning the VM, remove the finalizer: kubectl"
                + " -n "
                + ref.namespace()
                + " patch workloadentry "
                + ref.name()
                + " --type json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]')";
        if (!Thread.currentThread().isInterrupted()) {
          writeStatus(ref, describe(result), failure, state.failures + 1, result.outcome());
        }
        return Optional.of(failure);
      }
    }
    removeFinalizer(ref);
    states.remove(ref.toString());
    settings.events().emit(new ControllerEvent.FinalizerRemoved(ref, settings.clock().instant()));
    return Optional.empty();
  }

  private void removeFinalizer(WorkloadRef ref) {
    writer.update(
        ref,
        "remove the finalizer " + OnboardingController.FINALIZER,
        metadata -> {
          if (metadata.getFinalizers() == null
              || !metadata.getFinalizers().contains(OnboardingController.FINALIZER)) {
            return false;
          }
          List<String> finalizers = new ArrayList<>(metadata.getFinalizers());
          finalizers.removeIf(OnboardingController.FINALIZER::equals);
          metadata.setFinalizers(finalizers);
          return true;
        });
  }

  /** Emits the run's event and records its result on the entry (offboarding successes aside). */
  private void report(WorkloadRef ref, OnboardingResult result, EntryState state) {
    if (result.operation() != OnboardingResult.Operation.OFFBOARD) {
      emitReconciled(ref, result);
    }
    if (Thread.currentThread().isInterrupted()) {
      return;
    }
    int failures = result.isSuccess() ? 0 : state.failures + 1;
    String error = result.failure().map(Throwable::getMessage).orElse(null);
    writeStatus(ref, describe(result), error, failures, result.outcome());
  }

  private void recordFailure(
      WorkloadRef ref, GenericKubernetesResource entry, String reason, int failures) {
    String operation = Entries.isDeleting(entry) ? "offboard" : "onboard";
    try {
      writeStatus(ref, operation + " failed", reason, failures, OnboardingResult.Outcome.FAILED);
    } catch (RuntimeException e) {
      LOG.debug("cannot record the failure on {}", ref, e);
    }
  }

  private void emitReconciled(WorkloadRef ref, OnboardingResult result) {
    LOG.debug("{}", result);
    settings.events().emit(new ControllerEvent.Reconciled(ref, result, settings.clock().instant()));
  }

  /**
   * Sets the status annotations. An unchanged VM whose status already says all is well is not
   * written again, so that periodic checks do not rewrite every entry.
   */
  private void writeStatus(
      WorkloadRef ref,
      String lastResult,
      String error,
      int failures,
      OnboardingResult.Outcome outcome) {
    Instant now = settings.clock().instant();
    writer.update(
        ref,
        "record the status",
        metadata -> {
          Map<String, String> annotations = annotations(metadata);
          if (outcome == OnboardingResult.Outcome.UNCHANGED
              && annotations.containsKey(OnboardingController.LAST_RESULT)
              && !annotations.containsKey(OnboardingController.LAST_ERROR)) {
            return false;
          }
          annotations.put(OnboardingController.LAST_RESULT, lastResult);
          annotations.put(OnboardingController.LAST_RESULT_AT, now.toString());
          putOrRemove(annotations, OnboardingController.LAST_ERROR, truncate(error));
          putOrRemove(
              annotations,
              OnboardingController.FAILURES,
              failures == 0 ? null : Integer.toString(failures));
          metadata.setAnnotations(annotations);
          return true;
        });
  }

  private static Map<String, String> annotations(ObjectMeta metadata) {
    return new LinkedHashMap<>(
        metadata.getAnnotations() == null ? Map.of() : metadata.getAnnotations());
  }

  private static void putOrRemove(Map<String, String> map, String key, String value) {
    if (value == null) {
      map.remove(key);
    } else {
      map.put(key, value);
    }
  }

  private static String truncate(String text) {
    return text == null || text.length() <= MAX_ERROR_LENGTH
        ? text
        : text.substring(0, MAX_ERROR_LENGTH - 3) + "...";
  }

  /** E.g. {@code onboard succeeded}, {@code refresh-token unchanged}. */
  static String describe(OnboardingResult result) {
    return result.operation().name().toLowerCase(Locale.ROOT).replace('_', '-')
        + " "
        + result.outcome().name().toLowerCase(Locale.ROOT);
  }

  private static String failureOf(OnboardingResult result) {
    return result.failure().map(Throwable::getMessage).orElse(result.toString());
  }
}
