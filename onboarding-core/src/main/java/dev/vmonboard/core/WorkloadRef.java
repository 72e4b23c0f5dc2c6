package dev.vmonboard.core;

import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.internal.ValueStyle;
import java.util.ArrayList;
import java.util.List;
import org.immutables.value.Value;

/**
 * Names one workload: a namespace and a name, as {@code kubectl} and {@code tctl} users type it.
 *
 * <p>{@link #parse(String, String)} reads {@code name[.namespace]}: the namespace follows the
 * <em>last</em> dot (a namespace never contains a dot, a name may). Prints as {@code
 * namespace/name}.
 */
@Value.Immutable
@ValueStyle
public abstract class WorkloadRef implements Comparable<WorkloadRef> {

  WorkloadRef() {}

  /** The Kubernetes namespace of the workload. */
  @Value.Parameter
  public abstract String namespace();

  /** The name of the workload (a WorkloadEntry or WorkloadGroup name). */
  @Value.Parameter
  public abstract String name();

  /**
   * A reference to {@code name} in {@code namespace}.
   *
   * @throws InvalidInputException naming the field when either is not a valid Kubernetes name
   */
  public static WorkloadRef of(String namespace, String name) {
    List<Problem> problems = new ArrayList<>();
    Names.checkNamespace("namespace", namespace, problems);
    Names.checkObjectName("name", name, problems);
    InvalidInputException.throwIfAny(null, "workload reference", problems);
    return ImmutableWorkloadRef.of(namespace, name);
  }

  /**
   * Parses {@code name[.namespace]}; without a namespace, {@code defaultNamespace} applies.
   *
   * @throws InvalidInputException when the text does not name a workload
   */
  public static WorkloadRef parse(String text, String defaultNamespace) {
    if (text == null || text.isBlank()) {
      throw InvalidInputException.of(
          null,
          "workload reference",
          Problem.of("reference", "is empty; expected name[.namespace], e.g. backend-vm.ns"));
    }
    int dot = text.lastIndexOf('.');
    if (dot < 0) {
      return of(defaultNamespace, text);
    }
    if (dot == 0 || dot == text.length() - 1) {
      throw InvalidInputException.of(
          null,
          "workload reference",
          Problem.of(
              "reference",
              "'" + Names.printable(text) + "' is not name[.namespace], e.g. backend-vm.ns"));
    }
    return of(text.substring(dot + 1), text.substring(0, dot));
  }

  @Override
  public int compareTo(WorkloadRef other) {
    int byNamespace = namespace().compareTo(other.namespace());
    return byNamespace != 0 ? byNamespace : name().compareTo(other.name());
  }

  @Override
  public String toString() {
    return namespace() + "/" + name();
  }
}
