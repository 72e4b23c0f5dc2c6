package dev.vmonboard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubeconfigsTest {

  @TempDir Path dir;

  @Test
  void kubeconfigListsEveryFileAndFindsNoneNamesThemAll() {
    Path home = dir.resolve("home");
    String list = dir.resolve("a") + ":" + dir.resolve("b c");
    assertThat(Kubeconfigs.candidates(null, Map.of("KUBECONFIG", list), home))
        .containsExactly(dir.resolve("a"), dir.resolve("b c"));
    assertThat(Kubeconfigs.candidates(null, Map.of(), home))
        .containsExactly(home.resolve(".kube/config"));

    assertThatThrownBy(() -> Kubeconfigs.check(null, Map.of("KUBECONFIG", list), home))
        .isInstanceOf(UsageError.class)
        .hasMessageStartingWith(
            "no kubeconfig found (looked at KUBECONFIG: "
                + dir.resolve("a")
                + ", "
                + dir.resolve("b c")
                + ")");
  }

  @Test
  void onlyTheFilesThatExistAreReadAndEachMustBeYaml() throws Exception {
    Path good = Files.writeString(dir.resolve("good"), "apiVersion: v1\nkind: Config\n");
    Path bad = Files.writeString(dir.resolve("bad"), "apiVersion: [v1\n");
    String missingAndGood = dir.resolve("missing") + ":" + good;
    Kubeconfigs.check(null, Map.of("KUBECONFIG", missingAndGood), dir);

    assertThatThrownBy(() -> Kubeconfigs.check(null, Map.of("KUBECONFIG", good + ":" + bad), dir))
        .isInstanceOf(UsageError.class)
        .hasMessageStartingWith("kubeconfig " + bad + " is not YAML: ");
  }

  @Test
  void inAPodWithoutKubeconfigTheServiceAccountIsUsed() {
    Kubeconfigs.check(null, Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), dir);
    assertThatThrownBy(
            () ->
                Kubeconfigs.check(
                    dir.resolve("given"), Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), dir))
        .hasMessageContaining("no kubeconfig found (looked at " + dir.resolve("given") + ")");
  }
}
