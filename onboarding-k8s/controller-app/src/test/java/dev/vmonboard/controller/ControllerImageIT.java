package dev.vmonboard.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The controller image the build wrote ({@code target/jib-image.tar}, {@code docker save} layout)
 * checked by its contents and config, since no container can be started here: it starts the
 * controller as a non-root user, and carries the controller's libraries and none of the tests'.
 */
class ControllerImageIT {

  private static final Path IMAGE = Path.of("target", "jib-image.tar");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static JsonNode config;
  private static final List<String> files = new ArrayList<>();

  @BeforeAll
  static void readImage() throws IOException {
    assertThat(IMAGE).as("the image tarball built by `package`").isRegularFile();
    Map<String, byte[]> top = new HashMap<>();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(IMAGE)))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        top.put(e.getName(), tar.readAllBytes());
      }
    }
    JsonNode manifest = JSON.readTree(top.get("manifest.json")).get(0);
    config = JSON.readTree(top.get(manifest.get("Config").asString()));
    for (JsonNode layer : manifest.get("Layers")) {
      byte[] bytes = top.get(layer.asString());
      try (InputStream raw = new java.io.ByteArrayInputStream(bytes);
          InputStream in =
              bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b
                  ? new GZIPInputStream(raw)
                  : raw;
          TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
        for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
          files.add("/" + e.getName().replaceFirst("^\\./", ""));
        }
      }
    }
  }

  @Test
  void itStartsTheControllerWithJavaFromTheBase() {
    List<String> entrypoint = strings(config.get("config").get("Entrypoint"));
    assertThat(entrypoint.get(0)).isEqualTo("java");
    assertThat(entrypoint).contains("-XX:MaxRAMPercentage=75");
    assertThat(entrypoint.get(entrypoint.size() - 1)).isEqualTo(ControllerMain.class.getName());
    assertThat(strings(config.get("config").get("Env")))
        .anyMatch(env -> env.startsWith("PATH=" + LocalBaseImage.JAVA_HOME + "/bin"));
    assertThat(files).contains(LocalBaseImage.JAVA_HOME + "/bin/java");
    assertThat(config.get("config").get("ExposedPorts").has("8081/tcp")).isTrue();
  }

  @Test
  void itRunsAsTheNonRootUser() {
    String user = config.get("config").get("User").asString();
    assertThat(user).isEqualTo("65532:65532");
    assertThat(files).contains("/etc/passwd");
  }

  @Test
  void itCarriesTheControllerAndItsLibrariesAndNothingOfTheTests() {
    List<String> jars =
        files.stream().filter(f -> f.startsWith("/app/libs/")).map(f -> f.substring(10)).toList();
    assertThat(jars)
        .anyMatch(j -> j.startsWith("onboarding-k8s-"))
        .anyMatch(j -> j.startsWith("onboarding-ssh-"))
        .anyMatch(j -> j.startsWith("onboarding-core-"))
        .anyMatch(j -> j.startsWith("kubernetes-client-"))
        .anyMatch(j -> j.startsWith("jsch-"))
        .anyMatch(j -> j.startsWith("slf4j-simple-"));
    assertThat(jars)
        .as("test libraries, the embedded cluster and SSH server, the examples")
        .noneMatch(
            j ->
                j.matches(
                    "(junit|opentest4j|apiguardian|assertj|awaitility|archunit|mockwebserver"
                        + "|kubernetes-server-mock|vertx|netty|sshd|bc(prov|pkix|util)"
                        + "|onboarding-examples|picocli|commons-compress-tests).*"));
    assertThat(files)
        .filteredOn(f -> f.startsWith("/app/classes/") && f.endsWith(".class"))
        .isNotEmpty()
        .allMatch(f -> f.startsWith("/app/classes/dev/vmonboard/controller/"))
        .noneMatch(f -> f.contains("Test") || f.contains("IT") || f.contains("LocalBaseImage"));
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(node -> out.add(node.asString()));
    return out;
  }
}
