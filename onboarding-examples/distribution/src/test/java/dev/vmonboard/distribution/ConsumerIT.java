package dev.vmonboard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What a build that depends on vmonboard gets: the consumer project (src/it/consumer, which imports
 * the BOM and compiled against the artifacts installed under target/) resolved the versions this
 * build tested, and every artifact is a named module with sources and Javadoc.
 */
class ConsumerIT {

  private static final Pattern DEPENDENCY =
      Pattern.compile("^\\s*([^:\\s]+):([^:]+):jar:([^:]+):(compile|runtime)");

  @Test
  void theConsumerResolvesTheVersionsThisBuildTested() throws IOException {
    Map<String, String> resolved = resolved();
    assertThat(resolved)
        .containsEntry(
            "org.snakeyaml:snakeyaml-engine", System.getProperty("tested.snakeyaml-engine"))
        .containsEntry("tools.jackson.core:jackson-databind", System.getProperty("tested.jackson3"))
        .containsEntry(
            "tools.jackson.dataformat:jackson-dataformat-yaml",
            System.getProperty("tested.jackson3"))
        .containsEntry("io.fabric8:kubernetes-client", System.getProperty("tested.fabric8"))
        .containsEntry("com.github.mwiede:jsch", System.getProperty("tested.jsch"))
        .containsEntry("org.slf4j:slf4j-api", System.getProperty("tested.slf4j"))
        .containsEntry("dev.vmonboard:onboarding-k8s", LauncherIT.VERSION)
        .containsEntry("dev.vmonboard:onboarding-ssh", LauncherIT.VERSION)
        .containsEntry("dev.vmonboard:onboarding-core", LauncherIT.VERSION);
    assertThat(resolved.keySet())
        .as("what the SDK keeps optional: the embedded cluster and SSH server")
        .noneMatch(a -> a.contains("kubernetes-server-mock") || a.startsWith("org.apache.sshd:"));
    assertThat(Path.of(System.getProperty("it.repository"), "dev/vmonboard/vmonboard-bom"))
        .isDirectory();
  }

  @Test
  void everyArtifactIsANamedModuleWithSourcesAndJavadoc() throws IOException {
    Path root = LauncherIT.DIST.getParent().getParent().getParent().getParent();
    Map<String, String> modules =
        Map.of(
            "onboarding-core", "dev.vmonboard.core",
            "onboarding-k8s", "dev.vmonboard.k8s",
            "onboarding-ssh", "dev.vmonboard.ssh",
            "onboarding-k8s/controller-app", "dev.vmonboard.controller",
            "onboarding-examples", "dev.vmonboard.examples");
    for (var module : modules.entrySet()) {
      Path target = root.resolve(module.getKey()).resolve("target");
      List<Path> jars;
      try (Stream<Path> files = Files.list(target)) {
        jars = files.filter(f -> f.toString().endsWith(".jar")).toList();
      }
      Path main =
          jars.stream()
              .filter(j -> j.getFileName().toString().endsWith(LauncherIT.VERSION + ".jar"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no jar in " + target));
      try (JarFile jar = new JarFile(main.toFile())) {
        assertThat(jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"))
            .as(main.toString())
            .isEqualTo(module.getValue());
      }
      assertThat(jars)
          .as(module.getKey())
          .anyMatch(j -> j.toString().endsWith("-sources.jar"))
          .anyMatch(j -> j.toString().endsWith("-javadoc.jar"));
    }
  }

  /** groupId:artifactId to version, from the consumer's {@code dependency:list}. */
  private static Map<String, String> resolved() throws IOException {
    Path list = Path.of(System.getProperty("it.resolved"));
    assertThat(list).as("the consumer build's dependency list").isRegularFile();
    return Files.readAllLines(list).stream()
        .map(DEPENDENCY::matcher)
        .filter(Matcher::find)
        .collect(
            Collectors.toMap(m -> m.group(1) + ":" + m.group(2), m -> m.group(3), (a, b) -> a));
  }
}
