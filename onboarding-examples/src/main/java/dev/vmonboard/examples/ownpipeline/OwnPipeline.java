package dev.vmonboard.examples.ownpipeline;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import dev.vmonboard.core.bundle.ArchiveTransport;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.examples.support.Quiet;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Your own pipeline: the SDK assembled with two of its stages replaced and a listener of your own,
 * driven by your own onboarding code.
 *
 * <ul>
 *   <li>Stage 2 replaced: {@link FileTokenIssuer} reads each VM's token from a file minted
 *       elsewhere, instead of asking the TokenRequest API.
 *   <li>Stage 3 replaced: {@link ArchiveTransport} writes every bundle into one {@code .tgz} to
 *       carry to the VMs, instead of copying over SSH; stage 4 is {@link ProxyLauncher#none()}.
 *   <li>A listener of your own: {@link JsonEventListener} prints every event as JSON on standard
 *       output.
 *   <li>Your own code on the front door: {@link NightlyOnboarding}, unit-tested with the SDK's
 *       in-memory test kit in {@code NightlyOnboardingTest}.
 * </ul>
 *
 * The registrar and the mesh discovery stay the SDK's Kubernetes ones, here against the embedded
 * cluster. Run it (the argument is where the tokens and the archive go, a new temporary directory
 * by default):
 *
 * <pre>
 * mvn -B -q -pl onboarding-examples -am compile -Down-pipeline
 * mvn -B -q -pl onboarding-examples -am compile -Down-pipeline -Dexec.args=/tmp/own
 * </pre>
 */
public final class OwnPipeline {

  static final String NAMESPACE = "vmonboard-own";
  static final String ARCHIVE = "bundles.tgz";
  static final String TOKENS = "tokens";

  private OwnPipeline() {}

  /** Runs the example and exits: 0 when every VM was onboarded, 1 otherwise. */
  public static void main(String[] args) throws IOException {
    Quiet.javaUtilLogging();
    int code = run(args, System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  /** Runs the example: JSON events on {@code out}, what it did on {@code err}. */
  public static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
    Path dir =
        args.length > 0
            ? Files.createDirectories(Path.of(args[0]))
            : Files.createTempDirectory("vmonboard-own-pipeline-");
    Path tokens = Files.createDirectories(dir.resolve(TOKENS));
    Files.setPosixFilePermissions(tokens, PosixFilePermissions.fromString("rwx------"));
    Path archive = dir.resolve(ARCHIVE);

    try (EmbeddedIstioCluster cluster = EmbeddedIstioCluster.start()) {
      // 1. The VMs are registered (by the host's own tooling; here the SDK's registrar).
      KubernetesRegistrar registrar = KubernetesRegistrar.create(cluster.cluster());
      for (String[] vm :
          new String[][] {{"backend-vm", "10.0.0.21"}, {"frontend-vm", "10.0.0.22"}}) {
        registrar.register(
            Registration.builder()
                .workload(
                    Workload.builder(WorkloadRef.of(NAMESPACE, vm[0]))
                        .address(vm[1])
                        .putLabels("app", vm[0])
                        .serviceAccount("vm-sa")
                        .build())
                .createServiceAccount(true)
                .build());
      }
      // 2. One token per VM is minted elsewhere; here as `kubectl create token` does it.
      FileTokenIssuer issuer = FileTokenIssuer.inDirectory(tokens);
      for (Workload workload : registrar.list(WorkloadSelector.inNamespace(NAMESPACE))) {
        Path file = issuer.fileOf(workload);
        Files.writeString(file, mint(cluster, workload));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      }

      // 3. The pipeline, with the replaced stages.
      OnboardingPipeline pipeline =
          OnboardingPipeline.builder()
              .registrar(registrar)
              .tokenIssuer(issuer)
              .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
              .bundleFactory(ContainerBundleFactory.create())
              .transport(ArchiveTransport.perWorkload(archive))
              .launcher(ProxyLauncher.none())
              .listener(new JsonEventListener(out))
              .build();

      // 4. Your own onboarding code drives it.
      NightlyOnboarding.Report report =
          new NightlyOnboarding(pipeline).run(WorkloadSelector.inNamespace(NAMESPACE));

      out.flush();
      err.println(
          "own pipeline: "
              + report.onboarded().size()
              + " VMs onboarded into "
              + archive
              + " in "
              + report.rounds()
              + (report.rounds() == 1 ? " round" : " rounds")
              + (report.allOnboarded() ? "" : "; failed: " + report.failures()));
      for (String entry : listing(archive)) {
        err.println("  " + entry);
      }
      return report.allOnboarded() ? 0 : 1;
    }
  }

  /** A token for {@code workload}'s ServiceAccount, one hour, audience istio-ca. */
  private static String mint(EmbeddedIstioCluster cluster, Workload workload) {
    return cluster
        .client()
        .serviceAccounts()
        .inNamespace(workload.namespace())
        .withName(workload.serviceAccount().orElseThrow())
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withAudiences(List.of("istio-ca"))
                .withExpirationSeconds(3600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /** The archive's files, {@code tar -tvzf} style: mode and path. */
  static List<String> listing(Path archive) throws IOException {
    List<String> lines = new ArrayList<>();
    if (!Files.exists(archive)) {
      return lines;
    }
    try (InputStream file = new BufferedInputStream(Files.newInputStream(archive));
        TarArchiveInputStream tar =
            new TarArchiveInputStream(new GzipCompressorInputStream(file))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        if (!entry.isDirectory()) {
          lines.add(
              String.format(
                  "%04o %6d %s", entry.getMode() & 07777, entry.getSize(), entry.getName()));
        }
      }
    }
    return lines;
  }
}
