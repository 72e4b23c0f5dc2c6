package dev.vmonboard.core.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.testing.TestMeshes;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The mesh snapshot's derived values. */
class MeshSnapshotTest {

  @Test
  void emptyMeshGivesIstiosDefaultProxyConfig() {
    assertThat(TestMeshes.typical().defaultProxyConfig())
        .isEqualTo(IstioConfig.builtInProxyConfig("istio-system", java.util.Optional.empty()));
  }

  @Test
  void partialDefaultConfigIsMergedNotReplaced() {
    MeshSnapshot mesh =
        MeshSnapshot.builder()
            .from(TestMeshes.typical())
            .meshConfig(IstioConfig.parseMeshConfig("defaultConfig:\n  drainDuration: 9s\n", "m"))
            .build();
    assertThat(mesh.defaultProxyConfig())
        .containsEntry("drainDuration", "9s")
        .containsEntry("discoveryAddress", "istiod.istio-system.svc:15012");
  }

  @Test
  void istiodHostFollowsRevisionAndNamespace() {
    assertThat(TestMeshes.typical().istiodHost()).isEqualTo("istiod.istio-system.svc");
    assertThat(
            MeshSnapshot.builder()
                .from(TestMeshes.typical())
                .istioNamespace("cp")
                .revision("1-9")
                .build()
                .istiodHost())
        .isEqualTo("istiod-1-9.cp.svc");
  }

  @Test
  void meshConfigTrustDomainWinsOverTheInstallValue() {
    MeshSnapshot mesh =
        MeshSnapshot.builder()
            .from(TestMeshes.typical())
            .values(InstallValues.builder().trustDomain("values.local").build())
            .build();
    assertThat(mesh.trustDomain()).isEqualTo("values.local");
    assertThat(
            MeshSnapshot.builder()
                .from(mesh)
                .meshConfig(Map.of("trustDomain", "mesh.local"))
                .build()
                .trustDomain())
        .isEqualTo("mesh.local");
  }

  @Test
  void gatewayIsAnIpOrAHostName() {
    assertThat(GatewayAddress.of("203.0.113.10").isHostname()).isFalse();
    assertThat(GatewayAddress.of("2001:db8::1").isHostname()).isFalse();
    assertThat(GatewayAddress.of("a1.elb.example.com").isHostname()).isTrue();
    assertThatThrownBy(() -> GatewayAddress.of("a b")).isInstanceOf(IllegalArgumentException.class);
  }
}
