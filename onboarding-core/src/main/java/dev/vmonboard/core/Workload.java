package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * A VM workload as the control plane knows it: a {@code WorkloadEntry} (one VM) or a {@code
 * WorkloadGroup} (a template VMs register against).
 *
 * <p>Values are kept as the control plane holds them; {@link #validate()} (called by the pipeline
 * before any stage with a side effect) refuses what onboarding cannot use, naming every field at
 * fault.
 */
@Value.Immutable
@ValueStyle
public abstract class Workload {

  Workload() {}

  /** Which Istio resource the workload is. */
  public enum Kind {
    /** A {@code WorkloadEntry}: one VM with its own address. */
    WORKLOAD_ENTRY,
    /** A {@code WorkloadGroup}: a template; istiod can create entries on auto-registration. */
    WORKLOAD_GROUP
  }

  /** The workload's namespace and name. */
  public abstract WorkloadRef ref();

  /** Shorthand for {@code ref().name()}. */
  public final String name() {
    return ref().name();
  }

  /** Shorthand for {@code ref().namespace()}. */
  public final String namespace() {
    return ref().namespace();
  }

  /** Whether this is an entry or a group. */
  @Value.Default
  public Kind kind() {
    return Kind.WORKLOAD_ENTRY;
  }

  /** The VM's address ({@code spec.address}): an IP or a DNS name. */
  public abstract Optional<String> address();

  /** The labels of the workload ({@code spec.labels}, or the group template's labels). */
  public abstract Map<String, String> labels();

  /** The labels on the object's metadata (merged under {@link #labels()} where Istio does). */
  public abstract Map<String, String> metadataLabels();

  /**
   * The annotations on the object's metadata; they drive bootstrap ({@link BootstrapAnnotation}).
   */
  public abstract Map<String, String> annotations();

  /**
   * The annotations of the object's own metadata, when {@link #annotations()} holds others over
   * them: for a WorkloadGroup whose {@code spec.metadata.annotations} are set, {@link
   * #annotations()} is those over the object's, and this the object's own (Istio applies the
   * object's {@code proxy.istio.io/config} first, then the template's). Empty otherwise.
   */
  public abstract Map<String, String> metadataAnnotations();

  /** The ServiceAccount the proxy runs as ({@code spec.serviceAccount}). */
  public abstract Optional<String> serviceAccount();

  /** The mesh network of the VM ({@code spec.network}). */
  public abstract Optional<String> network();

  /** Named ports of the workload ({@code spec.ports}): name to port number. */
  public abstract Map<String, Integer> ports();

  /** For a group: whether istiod registers VMs that connect with it (auto-registration). */
  @Value.Default
  public boolean autoRegister() {
    return false;
  }

  /** For a group: the readiness probe of its template, turned into the proxy's readinessProbe. */
  public abstract Optional<ReadinessProbe> readinessProbe();

  /** The value of one annotation, when set. */
  public final Optional<String> annotation(String name) {
    return Optional.ofNullable(annotations().get(name));
  }

  /** The value of one of the SDK's annotations, when set. */
  public final Optional<String> annotation(BootstrapAnnotation annotation) {
    return annotation(annotation.key());
  }

  /**
   * Refuses what onboarding cannot use: a missing service account, a missing or malformed address,
   * malformed labels or ports. Reports every problem at once.
   *
   * @throws InvalidInputException naming each field at fault and the workload
   */
  public final Workload validate() {
    InvalidInputException.throwIfAny(ref(), "workload", WorkloadChecks.problems(this));
    return this;
  }

  /** A builder initialised with this workload's values, to change some of them. */
  public final Builder toBuilder() {
    return builder().from(this);
  }

  /** A builder for a workload named {@code ref}; everything else is optional. */
  public static Builder builder(WorkloadRef ref) {
    return builder().ref(ref);
  }

  /** An empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link Workload}s. */
  public static final class Builder extends ImmutableWorkload.Builder {
    Builder() {}
  }
}
