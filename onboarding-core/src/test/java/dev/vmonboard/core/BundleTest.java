package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.testing.TestMeshes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BundleTest {

  private final Bundle bundle =
      Fixtures.MINIMAL_BUNDLES.build(Fixtures.vm("ns", "vm", "10.0.0.4"), TestMeshes.typical());

  @Test
  void octalModesHaveFourDigitsForEveryPosixMode() {
    for (int mode = 0; mode <= 07777; mode++) {
      assertThat(BundleFile.of("f", mode, new byte[0]).octalMode())
          .isEqualTo(String.format("%04o", mode));
    }
  }

  @Test
  void theTokenIsAddedOwnerOnlyAndLeavesTheHashAlone() {
    Bundle withToken = bundle.withToken(BootstrapToken.of("s3cret", "istio-ca", Instant.now()));

    BundleFile token = withToken.file("istio-token").orElseThrow();
    assertThat(token.mode()).isEqualTo(0600);
    assertThat(token.secret()).isTrue();
    assertThat(new String(token.content(), StandardCharsets.UTF_8)).isEqualTo("s3cret");
    assertThat(withToken.contentHash()).isEqualTo(bundle.contentHash());
    assertThat(withToken.withToken(BootstrapToken.of("other", "istio-ca", Instant.now())).files())
        .hasSize(2);
  }

  @Test
  void theHashChangesWithAnyFile() {
    Bundle changed =
        Fixtures.MINIMAL_BUNDLES.build(Fixtures.vm("ns", "vm2", "10.0.0.4"), TestMeshes.typical());

    assertThat(changed.contentHash()).isNotEqualTo(bundle.contentHash()).hasSize(64);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\nb", ""})
  void refusesFilePathsThatEscapeTheBundle(String path) {
    assertThatThrownBy(() -> BundleFile.of(path, 0644, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesASecretReadableByOthers() {
    assertThatThrownBy(() -> ImmutableBundleFile.of("istio-token", 0640, new byte[] {1}, true))
        .hasMessageContaining("owner-only");
  }

  @Test
  void aFileShowsNoContent() {
    BundleFile file =
        BundleFile.of("sidecar.env", 0644, "SECRET-LOOKING".getBytes(StandardCharsets.UTF_8));

    assertThat(file.toString()).isEqualTo("BundleFile{sidecar.env, mode=0644, 14 bytes}");
  }

  @Test
  void rendersTheContainerRunArgumentsAgainstTheConfigDirectory() {
    ContainerLaunch launch =
        ContainerLaunch.builder()
            .containerName("istio-proxy")
            .image("docker.io/istio/proxyv2:1.9.0")
            .addMounts(
                ContainerLaunch.Mount.of(
                    "istio-ca.pem", "/var/run/secrets/istio/root-cert.pem", true))
            .envFile("sidecar.env")
            .addHostAliases(ContainerLaunch.HostAlias.of("istiod.istio-system.svc", "203.0.113.10"))
            .addArgs("proxy", "sidecar")
            .build();

    assertThat(Shell.join(launch.runArguments("/etc/istio proxy")))
        .isEqualTo(
            "run -d --name istio-proxy --restart unless-stopped --network host"
                + " -v '/etc/istio proxy/istio-ca.pem:/var/run/secrets/istio/root-cert.pem:ro'"
                + " --env-file '/etc/istio proxy/sidecar.env'"
                + " --add-host istiod.istio-system.svc:203.0.113.10"
                + " docker.io/istio/proxyv2:1.9.0 proxy sidecar");
  }
}
