package dev.vmonboard.core;

import dev.vmonboard.core.internal.Names;
import dev.vmonboard.core.internal.ValueStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * Which workloads a fleet run covers: one namespace or all, optionally narrowed by a Kubernetes
 * label selector ({@code app=backend,class=vm}).
 */
@Value.Immutable
@ValueStyle
public abstract class WorkloadSelector {

  WorkloadSelector() {}

  /** The namespace; absent means every namespace. */
  @Value.Parameter
  public abstract Optional<String> namespace();

  /** A label selector in Kubernetes syntax; absent means every workload. */
  @Value.Parameter
  public abstract Optional<String> labelSelector();

  /** Every workload of {@code namespace} (the {@code --all} of the command line). */
  public static WorkloadSelector inNamespace(String namespace) {
    List<Problem> problems = new ArrayList<>();
    Names.checkNamespace("namespace", namespace, problems);
    InvalidInputException.throwIfAny(null, "workload selector", problems);
    return ImmutableWorkloadSelector.of(Optional.of(namespace), Optional.empty());
  }

  /** Every workload of every namespace. */
  public static WorkloadSelector allNamespaces() {
    return ImmutableWorkloadSelector.of(Optional.empty(), Optional.empty());
  }

  /** The workloads of this selection that match {@code selector} as well. */
  public final WorkloadSelector withLabels(String selector) {
    if (selector.isBlank() || selector.indexOf('\n') >= 0 || selector.indexOf('\0') >= 0) {
      throw InvalidInputException.of(
          null, "label selector", Problem.of("selector", "is empty or has control characters"));
    }
    return ImmutableWorkloadSelector.of(namespace(), Optional.of(selector));
  }

  @Override
  public String toString() {
    return namespace().map(ns -> "namespace " + ns).orElse("all namespaces")
        + labelSelector().map(sel -> " matching " + sel).orElse("");
  }
}
