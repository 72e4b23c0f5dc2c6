package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Renders a Kustomize directory with {@code kubectl kustomize}, as {@code kubectl apply -k} would.
 * When {@code kubectl} is not on the {@code PATH} the calling test is skipped, except when the
 * environment variable {@code CI} is set: then it fails ({@code .ci/run} installs Debian's {@code
 * kubernetes-client}).
 */
final class Kustomize {

  private Kustomize() {}

  /** The objects {@code kubectl kustomize directory} renders. */
  static List<HasMetadata> render(Path directory) throws IOException, InterruptedException {
    Path kubectl = kubectl();
    Process process =
        new ProcessBuilder(kubectl.toString(), "kustomize", directory.toString())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    CompletableFuture<byte[]> errors =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return process.getErrorStream().readAllBytes();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    String yaml = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = process.waitFor();
    if (code != 0) {
      fail(
          "kubectl kustomize "
              + directory
              + " exited "
              + code
              + ": "
              + new String(errors.join(), StandardCharsets.UTF_8));
    }
    return new KubernetesSerialization().unmarshal(yaml);
  }

  private static Path kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    if (System.getenv("CI") != null) {
      fail("CI is set but kubectl is not on the PATH: install kubernetes-client (.ci/run does)");
    }
    assumeTrue(false, "kubectl not installed: apt-get install -y kubernetes-client");
    throw new AssertionError("unreachable");
  }
}
