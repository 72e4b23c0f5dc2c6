package dev.vmonboard.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes kubeconfig files for tests: one cluster, user and context per entry. */
final class KubeconfigFiles {

  private KubeconfigFiles() {}

  /** A kubeconfig with a context per {@code contexts} entry (name to server URL). */
  static Path write(Map<String, String> contexts, String current) {
    StringBuilder yaml = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
    contexts.forEach(
        (name, server) ->
            yaml.append("- name: ")
                .append(name)
                .append("\n  cluster:\n    server: ")
                .append(server)
                .append('\n'));
    yaml.append("users:\n");
    contexts.forEach(
        (name, server) ->
            yaml.append("- name: ")
                .append(name)
                .append("\n  user:\n    token: test-token-")
                .append(name)
                .append('\n'));
    yaml.append("contexts:\n");
    contexts.forEach(
        (name, server) ->
            yaml.append("- name: ")
                .append(name)
                .append("\n  context:\n    cluster: ")
                .append(name)
                .append("\n    user: ")
                .append(name)
                .append("\n    namespace: default\n"));
    yaml.append("current-context: ").append(current).append('\n');
    try {
      Path file = Files.createTempFile("kubeconfig", ".yaml");
      file.toFile().deleteOnExit();
      Files.writeString(file, yaml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
