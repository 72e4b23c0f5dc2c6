package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Stage;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.core.testing.TestMeshes;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole bundles against golden files written by hand from the rules of the domain reference
 * (sections 4 and 5), under {@code src/test/resources/dev/vmonboard/core/bundle/golden}. Each case
 * is written to a directory in the offline layout and every golden file is compared byte for byte;
 * the certificates and the token, not in the goldens, are compared with their sources.
 */
class GoldenBundleTest {

  @TempDir Path temp;

  @Test
  void workloadWithNetworkAppLabelAndStatsAnnotationInDefaultMesh() throws IOException {
    assertMatchesGolden(
        "1-network-app-stats",
        BundleFixtures.container(BundleFixtures.networkAppStats(), TestMeshes.typical()));
  }

  @Test
  void concurrencyFromProxyConfigAnnotationGoesToTheArgumentsOnly() throws IOException {
    assertMatchesGolden(
        "2-concurrency",
        BundleFixtures.container(BundleFixtures.concurrency(), TestMeshes.typical()));
  }

  @Test
  void hostnameGatewayRewritesAddressesAndSetsSni() throws IOException {
    assertMatchesGolden(
        "3-hostname-gateway",
        BundleFixtures.container(BundleFixtures.legacy(), BundleFixtures.hostnameGatewayMesh()));
  }

  @Test
  void revisionedMeshWithCaAddress() throws IOException {
    Bundle bundle =
        BundleFixtures.container(BundleFixtures.canonical(), BundleFixtures.revisionedMesh());
    Path written = assertMatchesGolden("4-revision-ca-address", bundle);
    assertThat(written.resolve("etc/k8s-ca.pem")).hasContent(BundleFixtures.KUBERNETES_CA);
  }

  @Test
  void systemdStyleForWorkloadGroupWithProbeAndOverriddenMetadata() throws IOException {
    assertMatchesGolden(
        "5-systemd-group",
        BundleFixtures.systemd(BundleFixtures.group(), BundleFixtures.meshWithMetadata()));
  }

  @Test
  void severalWorkloadsAsOneDirectory() throws IOException {
    Path root = temp.resolve("fleet");
    deliverSeveral(LocalDirectoryTransport.perWorkload(root));
    assertSeveral(root);
  }

  @Test
  void severalWorkloadsAsOneArchiveKeepTheirModesWhenExtracted()
      throws IOException, InterruptedException {
    Path archive = temp.resolve("fleet.tgz");
    deliverSeveral(ArchiveTransport.perWorkload(archive));
    Path extracted = Files.createDirectory(temp.resolve("extracted"));
    Process tar =
        new ProcessBuilder("tar", "-xzpf", archive.toString(), "-C", extracted.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor()).as("tar: " + output).isZero();
    Path marker = extracted.resolve(ArchiveTransport.MARKER);
    assertThat(marker).isRegularFile();
    Files.delete(marker);
    assertSeveral(extracted);
  }

  private void deliverSeveral(Transport transport) {
    List<Bundle> bundles =
        List.of(
            BundleFixtures.container(BundleFixtures.networkAppStats(), TestMeshes.typical()),
            BundleFixtures.container(BundleFixtures.legacy(), BundleFixtures.hostnameGatewayMesh()),
            BundleFixtures.systemd(BundleFixtures.group(), BundleFixtures.meshWithMetadata()));
    Target target = Target.builder().host("offline").configDir("/tmp/istio-proxy").build();
    for (Bundle bundle : bundles) {
      try (StageContext.Standalone context =
          StageContext.standalone(bundle.workload(), Stage.DELIVER, Duration.ofSeconds(30))) {
        transport.deliver(bundle, target, context);
      }
    }
  }

  private static void assertSeveral(Path root) throws IOException {
    assertThat(layout(root)).isEqualTo(golden("6-several/layout.txt"));
    assertFilesMatch("1-network-app-stats", root.resolve("backend-vm-1.vm-apps"));
    assertFilesMatch("3-hostname-gateway", root.resolve("legacy-vm.vm-apps"));
    assertFilesMatch("5-systemd-group", root.resolve("backend-group.vm-apps"));
  }

  /** Writes {@code bundle} in the offline layout and compares it with golden {@code name}. */
  private Path assertMatchesGolden(String name, Bundle bundle) throws IOException {
    Path directory = temp.resolve(name);
    Target target = Target.builder().host("offline").configDir("/tmp/istio-proxy").build();
    try (StageContext.Standalone context =
        StageContext.standalone(bundle.workload(), Stage.DELIVER, Duration.ofSeconds(30))) {
      LocalDirectoryTransport.singleWorkload(directory).deliver(bundle, target, context);
    }
    assertFilesMatch(name, directory);
    Canary.assertAbsent("bundle " + bundle, bundle.toString());
    return directory;
  }

  /**
   * Every golden file of case {@code name} equals the written one; the certificate and token files
   * hold what they should.
   */
  private static void assertFilesMatch(String name, Path written) throws IOException {
    Path goldenRoot = goldenDirectory(name);
    try (Stream<Path> files = Files.walk(goldenRoot)) {
      for (Path golden : files.filter(Files::isRegularFile).toList()) {
        Path relative = goldenRoot.relativize(golden);
        assertThat(read(written.resolve(relative.toString())))
            .as(name + ": " + relative)
            .isEqualTo(read(golden));
      }
    }
    Path token =
        Files.exists(written.resolve("etc/tokens"))
            ? written.resolve("etc/tokens/istio-token")
            : written.resolve("etc/istio-token");
    assertThat(read(token)).isEqualTo(Canary.SECRET);
    Path rootCert =
        Files.exists(written.resolve("etc/istio-ca.pem"))
            ? written.resolve("etc/istio-ca.pem")
            : written.resolve("etc/root-cert.pem");
    assertThat(read(rootCert)).isEqualTo(TestMeshes.ROOT_CERT);
  }

  /** {@code MODE path} for every entry under {@code root}, directories ending with {@code /}. */
  static String layout(Path root) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted().toList()) {
        if (path.equals(root)) {
          continue;
        }
        boolean directory = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
        lines.add(
            String.format("%04o", LocalFiles.mode(path))
                + " "
                + root.relativize(path).toString().replace('\\', '/')
                + (directory ? "/" : ""));
      }
    }
    return String.join("\n", lines) + "\n";
  }

  private static String golden(String relative) throws IOException {
    return read(goldenDirectory(relative));
  }

  private static Path goldenDirectory(String relative) {
    URL url = GoldenBundleTest.class.getResource("golden/" + relative);
    if (url == null) {
      throw new IllegalStateException("no golden " + relative);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }
}
