package dev.vmonboard.core;

import dev.vmonboard.core.internal.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The checks behind {@link Workload#validate()}. */
final class WorkloadChecks {

  private static final Pattern LABEL_NAME =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");

  private WorkloadChecks() {}

  static List<Problem> problems(Workload workload) {
    List<Problem> problems = new ArrayList<>();
    if (workload.serviceAccount().isEmpty() || workload.serviceAccount().get().isBlank()) {
      problems.add(
          Problem.of("spec.serviceAccount", "is missing; the proxy needs an identity to run as"));
    } else {
      Names.checkObjectName("spec.serviceAccount", workload.serviceAccount().get(), problems);
    }
    if (workload.kind() == Workload.Kind.WORKLOAD_ENTRY) {
      if (workload.address().isEmpty() || workload.address().get().isBlank()) {
        problems.add(Problem.of("spec.address", "is missing; set the VM's IP or DNS name"));
      }
    }
    workload
        .address()
        .filter(address -> !address.isBlank() && !Names.isAddress(address))
        .ifPresent(
            address ->
                problems.add(
                    Problem.of(
                        "spec.address",
                        "'"
                            + Names.printable(address)
                            + "' is neither an IP address nor a DNS name")));
    workload
        .network()
        .filter(network -> !network.isEmpty() && !LABEL_VALUE.matcher(network).matches())
        .ifPresent(
            network ->
                problems.add(
                    Problem.of(
                        "spec.network",
                        "'" + Names.printable(network) + "' is not a valid network name")));
    checkLabels("spec.labels", workload.labels(), problems);
    checkLabels("metadata.labels", workload.metadataLabels(), problems);
    for (Map.Entry<String, Integer> port : workload.ports().entrySet()) {
      if (Names.hasForbidden(port.getKey())) {
        problems.add(
            Problem.of(
                "spec.ports",
                "port name '"
                    + Names.printable(port.getKey())
                    + "' contains "
                    + Names.describeForbidden(port.getKey())));
      }
      if (port.getValue() < 1 || port.getValue() > 65535) {
        problems.add(
            Problem.of(
                "spec.ports." + Names.printable(port.getKey()),
                port.getValue() + " is not a port number (1-65535)"));
      }
    }
    return problems;
  }

  private static void checkLabels(
      String field, Map<String, String> labels, List<Problem> problems) {
    for (Map.Entry<String, String> label : labels.entrySet()) {
      String key = label.getKey();
      String name = key.contains("/") ? key.substring(key.lastIndexOf('/') + 1) : key;
      String prefix = key.contains("/") ? key.substring(0, key.lastIndexOf('/')) : null;
      boolean validKey =
          name.length() <= 63
              && LABEL_NAME.matcher(name).matches()
              && (prefix == null || (prefix.length() <= 253 && Names.isHostname(prefix)));
      if (!validKey) {
        problems.add(
            Problem.of(field, "key '" + Names.printable(key) + "' is not a valid label name"));
      } else if (label.getValue().length() > 63
          || !LABEL_VALUE.matcher(label.getValue()).matches()) {
        problems.add(
            Problem.of(
                field + "." + key,
                "'" + Names.printable(label.getValue()) + "' is not a valid label value"));
      }
    }
  }
}
