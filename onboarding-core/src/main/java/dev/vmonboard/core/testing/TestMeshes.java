package dev.vmonboard.core.testing;

import dev.vmonboard.core.mesh.GatewayAddress;
import dev.vmonboard.core.mesh.InstallValues;
import dev.vmonboard.core.mesh.MeshSnapshot;

/**
 * Mesh snapshots for tests: a typical Istio installation in {@code istio-system} with an east-west
 * gateway on an IP, built by hand (no cluster needed).
 */
public final class TestMeshes {

  /** A real self-signed root certificate (not secret: its key was thrown away). */
  public static final String ROOT_CERT =
      "-----BEGIN CERTIFICATE-----\n"
          + "MIIByTCCAW+gAwIBAgIUORRrNQVsq/JChkorAte5ET99bBcwCgYIKoZIzj0EAwIw\n"
          + "OTEbMBkGA1UECgwSdm1vbmJvYXJkIHRlc3Qga2l0MRowGAYDVQQDDBFUZXN0IE1l\n"
          + "c2ggUm9vdCBDQTAgFw0yNjExMjUyMDI5MDJaGA8yMTI2MTEwMTIwMjkwMlowOTEb\n"
          + "MBkGA1UECgwSdm1vbmJvYXJkIHRlc3Qga2l0MRowGAYDVQQDDBFUZXN0IE1lc2gg\n"
          + "Um9vdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHJtuCEdJ7qnsADOVCyd\n"
          + "eW6htRP+tRruulmka8u3XBhyMnvZ+VgwOSuRAwPeCQLWCCrtakSI2AqW23RMSRkq\n"
          + "0T+jUzBRMB0GA1UdDgQWBBS71BdKCEaTYCf47LsBzAKYmox2AjAfBgNVHSMEGDAW\n"
          + "gBS71BdKCEaTYCf47LsBzAKYmox2AjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49\n"
          + "BAMCA0gAMEUCIFRvIdm0RtrVfyFslecRLrZ93ZEk7VZ6iklKM0v73TSPAiEA8Sze\n"
          + "EnsvjfYwALJ/kmf5Woep78ebuBSmuDKfoLKCXmU=\n"
          + "-----END CERTIFICATE-----\n";

  /** The east-west gateway's IP in {@link #typical()}. */
  public static final String GATEWAY_IP = "203.0.113.10";

  private TestMeshes() {}

  /**
   * Istio with an empty {@code mesh} key (built-in defaults), hub {@code docker.io/istio}, tag
   * {@code 1.9.0}, the test root certificate and an east-west gateway (also the ingress of the
   * systemd style's {@code hosts}) at {@link #GATEWAY_IP}.
   */
  public static MeshSnapshot typical() {
    return MeshSnapshot.builder()
        .values(InstallValues.builder().tag("1.9.0").build())
        .rootCertificate(ROOT_CERT)
        .gateway(GatewayAddress.of(GATEWAY_IP))
        .ingress(GatewayAddress.of(GATEWAY_IP))
        .build();
  }
}
