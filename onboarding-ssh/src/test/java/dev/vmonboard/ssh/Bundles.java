package dev.vmonboard.ssh;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.LaunchSpec;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.testing.Canary;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Bundles for the SSH tests, shaped like ContainerBundleFactory's: the token in {@code tokens/},
 * whose directory is mounted, and a {@code -certs} host directory seeded with the root certificate.
 */
final class Bundles {

  static final String TOKEN_DIRECTORY = "tokens";
  static final String TOKEN = TOKEN_DIRECTORY + "/istio-token";
  static final String CERTS_SUFFIX = "-certs";

  private Bundles() {}

  static ContainerLaunch.Builder containerLaunch() {
    return ContainerLaunch.builder()
        .containerName("istio-proxy")
        .image("docker.io/istio/proxyv2:1.9.0")
        .addMounts(ContainerLaunch.Mount.of(TOKEN_DIRECTORY, "/var/run/secrets/tokens", true))
        .addHostDirectories(
            ContainerLaunch.HostDirectory.of(
                CERTS_SUFFIX, "/var/run/secrets/istio", Map.of("istio-ca.pem", "root-cert.pem")))
        .envFile("sidecar.env")
        .addHostAliases(ContainerLaunch.HostAlias.of("istiod.istio-system.svc", "10.0.0.1"))
        .args(List.of("proxy", "sidecar", "--proxyLogLevel", "info"));
  }

  static Bundle container(String version) {
    return bundle(version, containerLaunch().build());
  }

  static Bundle bundle(String version, LaunchSpec launch) {
    return Bundle.builder()
        .workload(WorkloadRef.of("ns", "vm-1"))
        .addFiles(BundleFile.of("sidecar.env", 0644, bytes("VERSION=" + version + "\n")))
        .addFiles(BundleFile.of("istio-ca.pem", 0644, bytes("-----CERT " + version + "-----\n")))
        .tokenPath(TOKEN)
        .launch(launch)
        .build()
        .withToken(
            BootstrapToken.of(
                Canary.SECRET + "-" + version, "istio-ca", Instant.now().plusSeconds(3600)));
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
