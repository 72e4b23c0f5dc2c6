package dev.vmonboard.k8s;

import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.Workload;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads a WorkloadGroup from a YAML (or JSON) manifest, as {@code istioctl x workload entry
 * configure -f FILE} takes it: the group need not exist on the cluster. What istioctl fills in is
 * filled in the same way (an absent {@code spec.metadata} or {@code spec.template}, the service
 * account {@code default}); a manifest without a namespace takes the one given.
 *
 * <p>The workload goes to a pipeline through any {@link dev.vmonboard.core.Registrar} that answers
 * it, for example one that serves it and asks the cluster for the rest.
 */
public final class WorkloadGroupFiles {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private WorkloadGroupFiles() {}

  /**
   * The WorkloadGroup in {@code file}.
   *
   * @param defaultNamespace the namespace when the manifest names none
   * @throws InvalidInputException when the file cannot be read or holds no WorkloadGroup
   */
  public static Workload read(Path file, String defaultNamespace) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw InvalidInputException.of(
          null,
          "WorkloadGroup file",
          Problem.of(
              file.toString(),
              "cannot be read ("
                  + (Files.exists(file) ? "permission denied or not text" : "no such file")
                  + ")"));
    } catch (UncheckedIOException e) {
      throw InvalidInputException.of(
          null, "WorkloadGroup file", Problem.of(file.toString(), "cannot be read"));
    }
    return parse(text, defaultNamespace, file.toString());
  }

  /**
   * The WorkloadGroup in {@code manifest}.
   *
   * @param defaultNamespace the namespace when the manifest names none
   * @param source what the text is, for messages (a file name)
   * @throws InvalidInputException when the text holds no WorkloadGroup
   */
  public static Workload parse(String manifest, String defaultNamespace, String source) {
    Object parsed;
    try {
      parsed = SERIALIZATION.unmarshal(manifest, Map.class);
    } catch (RuntimeException e) {
      throw refused(source, "is not a YAML or JSON manifest");
    }
    if (!(parsed instanceof Map<?, ?> map) || !"WorkloadGroup".equals(map.get("kind"))) {
      throw refused(source, "holds no WorkloadGroup (kind: WorkloadGroup)");
    }
    WorkloadGroup group;
    try {
      group = SERIALIZATION.convertValue(map, WorkloadGroup.class);
    } catch (RuntimeException e) {
      throw refused(source, "is not a valid WorkloadGroup: " + firstLine(e.getMessage()));
    }
    if (group.getMetadata() == null
        || group.getMetadata().getName() == null
        || group.getMetadata().getName().isBlank()) {
      throw refused(source, "names no WorkloadGroup (metadata.name)");
    }
    if (group.getMetadata().getNamespace() == null
        || group.getMetadata().getNamespace().isBlank()) {
      group.getMetadata().setNamespace(defaultNamespace);
    }
    return WorkloadMapping.fromGroup(group);
  }

  private static InvalidInputException refused(String source, String message) {
    return InvalidInputException.of(null, "WorkloadGroup file", Problem.of(source, message));
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "unreadable";
    }
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }
}
