package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the environment files of bundles back, for assertions. */
final class EnvFiles {

  private EnvFiles() {}

  /** {@code sidecar.env} as variables, in file order. */
  static Map<String, String> sidecarEnv(Bundle bundle) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : lines(bundle, ContainerBundleFactory.ENV_FILE)) {
      int equals = line.indexOf('=');
      values.put(line.substring(0, equals), line.substring(equals + 1));
    }
    return values;
  }

  /** The variable names of {@code sidecar.env}, in file order, duplicates kept. */
  static List<String> sidecarEnvNames(Bundle bundle) {
    List<String> names = new ArrayList<>();
    for (String line : lines(bundle, ContainerBundleFactory.ENV_FILE)) {
      names.add(line.substring(0, line.indexOf('=')));
    }
    return names;
  }

  /**
   * {@code cluster.env} as variables, in file order, with the simple {@code NAME='value'} quoting
   * undone (values with an embedded quote are read back by a real shell in the tests that need it).
   */
  static Map<String, String> clusterEnv(Bundle bundle) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : lines(bundle, SystemdBundleFactory.CLUSTER_ENV)) {
      int equals = line.indexOf('=');
      String quoted = line.substring(equals + 1);
      values.put(line.substring(0, equals), quoted.substring(1, quoted.length() - 1));
    }
    return values;
  }

  private static List<String> lines(Bundle bundle, String file) {
    String text = BundleFixtures.text(bundle, file);
    if (!text.endsWith("\n")) {
      throw new AssertionError(file + " does not end with a newline");
    }
    return List.of(text.substring(0, text.length() - 1).split("\n", -1));
  }
}
