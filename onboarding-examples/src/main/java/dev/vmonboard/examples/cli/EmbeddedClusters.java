package dev.vmonboard.examples.cli;

import dev.vmonboard.k8s.EmbeddedIstioCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The cluster behind {@code --embedded-cluster [FILE...]}. */
final class EmbeddedClusters {

  /** The sample WorkloadEntries that come with the built-in installation. */
  static final String SAMPLE_VMS = "sample-vms.yaml";

  /** The namespace of the sample WorkloadEntries. */
  static final String SAMPLE_NAMESPACE = "vmonboard-demo-secure";

  private EmbeddedClusters() {}

  /**
   * Without files: the built-in Istio installation and the two sample VMs of {@value #SAMPLE_VMS}.
   * With files: exactly the objects they hold, nothing built in (only the Istio CRDs, so that
   * WorkloadEntries can be stored).
   *
   * @throws UsageError when a file cannot be read or holds something the cluster cannot take
   */
  static EmbeddedIstioCluster start(List<Path> manifests) {
    EmbeddedIstioCluster.Builder builder = EmbeddedIstioCluster.builder();
    if (manifests.isEmpty()) {
      builder.manifest("the sample VMs (" + SAMPLE_VMS + ")", sampleVms());
    } else {
      builder.typicalIstio(false);
      for (Path file : manifests) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
          throw new UsageError(
              "--embedded-cluster: cannot read manifest '"
                  + file
                  + "' (no such file or not readable; put workload names before"
                  + " --embedded-cluster, its values are files)");
        }
        builder.manifest(file);
      }
    }
    try {
      return builder.start();
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new UsageError("--embedded-cluster: " + e.getMessage(), e);
    }
  }

  /** The text of {@value #SAMPLE_VMS}. */
  static String sampleVms() {
    try (InputStream in = EmbeddedClusters.class.getResourceAsStream(SAMPLE_VMS)) {
      if (in == null) {
        throw new IllegalStateException(SAMPLE_VMS + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
