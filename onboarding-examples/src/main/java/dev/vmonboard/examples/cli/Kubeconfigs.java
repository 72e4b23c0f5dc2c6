package dev.vmonboard.examples.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Finds the kubeconfig a run will use, as kubectl and fabric8 do ({@code --kubeconfig}, else the
 * system property {@code kubeconfig}, else {@code KUBECONFIG}'s files, else {@code
 * ~/.kube/config}), and refuses, before anything is sent, a kubeconfig that is missing or not YAML,
 * naming the files.
 */
final class Kubeconfigs {

  private static final YAMLMapper YAML = YAMLMapper.builder().build();

  private Kubeconfigs() {}

  /**
   * Checks the kubeconfig files a run would read.
   *
   * @param given {@code --kubeconfig}, or null
   * @param env the environment ({@code KUBECONFIG}, {@code KUBERNETES_SERVICE_HOST})
   * @param home the user's home directory
   * @throws UsageError when no file exists (outside a pod), or one is not a YAML mapping
   */
  static void check(Path given, Map<String, String> env, Path home) {
    List<Path> candidates = candidates(given, env, home);
    List<Path> present = candidates.stream().filter(Files::isRegularFile).toList();
    if (present.isEmpty()) {
      if (given == null && !isBlank(env.get("KUBERNETES_SERVICE_HOST"))) {
        return; // in a pod: the service account
      }
      throw new UsageError(
          "no kubeconfig found (looked at "
              + describe(candidates, given, env)
              + "): name one with --kubeconfig FILE, or try without a cluster with"
              + " --embedded-cluster");
    }
    for (Path file : present) {
      requireYamlMapping(file);
    }
  }

  static List<Path> candidates(Path given, Map<String, String> env, Path home) {
    if (given != null) {
      return List.of(given);
    }
    String property = System.getProperty("kubeconfig");
    if (!isBlank(property)) {
      return List.of(Path.of(property));
    }
    String variable = env.get("KUBECONFIG");
    if (!isBlank(variable)) {
      List<Path> files = new ArrayList<>();
      for (String name : variable.split(File.pathSeparator)) {
        if (!name.isBlank()) {
          files.add(Path.of(name));
        }
      }
      return files;
    }
    return List.of(home.resolve(".kube").resolve("config"));
  }

  private static String describe(List<Path> candidates, Path given, Map<String, String> env) {
    String files = String.join(", ", candidates.stream().map(Path::toString).toList());
    if (given == null
        && !isBlank(env.get("KUBECONFIG"))
        && isBlank(System.getProperty("kubeconfig"))) {
      return "KUBECONFIG: " + files;
    }
    return files;
  }

  private static void requireYamlMapping(Path file) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(file));
    } catch (JacksonException e) {
      throw new UsageError(
          "kubeconfig " + file + " is not YAML: " + firstLine(e.getOriginalMessage()), e);
    } catch (IOException | RuntimeException e) {
      throw new UsageError("kubeconfig " + file + " cannot be read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new UsageError(
          "kubeconfig "
              + file
              + " is not a kubeconfig: expected a YAML mapping (apiVersion, clusters, contexts,"
              + " users), found "
              + (root == null || root.isMissingNode() ? "nothing" : "a " + kind(root)));
    }
  }

  private static String kind(JsonNode node) {
    return node.isArray()
        ? "list"
        : node.isString()
            ? "string"
            : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    String line = message.strip();
    int newline = line.indexOf('\n');
    return newline < 0 ? line : line.substring(0, newline).strip();
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }
}
