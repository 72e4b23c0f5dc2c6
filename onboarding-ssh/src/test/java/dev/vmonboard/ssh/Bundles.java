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

/** Bundles for the SSH tests, shaped like the container style of the domain reference. */
final class Bundles {

  private Bundles() {}

  static ContainerLaunch.Builder containerLaunch() {
    return ContainerLaunch.builder()
        .containerName("istio-proxy")
        .image("docker.io/istio/proxyv2:1.9.0")
        .addMounts(
            ContainerLaunch.Mount.of("istio-ca.pem", "/var/run/secrets/istio/root-cert.pem", true),
            ContainerLaunch.Mount.of("istio-token", "/var/run/secrets/tokens/istio-token", true))
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
        .tokenPath("istio-token")
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
