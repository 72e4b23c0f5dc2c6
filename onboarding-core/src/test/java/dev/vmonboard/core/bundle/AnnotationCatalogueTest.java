package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The annotation catalogue lists every annotation the bundles read, each documented. */
class AnnotationCatalogueTest {

  /** The annotations of section 2 of the domain reference. */
  private static final List<String> REFERENCE =
      List.of(
          "sidecar-bootstrap.istio.io/ssh-host",
          "sidecar-bootstrap.istio.io/ssh-port",
          "sidecar-bootstrap.istio.io/ssh-user",
          "sidecar-bootstrap.istio.io/scp-path",
          "sidecar-bootstrap.istio.io/proxy-config-dir",
          "sidecar-bootstrap.istio.io/proxy-image-hub",
          "sidecar-bootstrap.istio.io/proxy-container-name",
          "sidecar-bootstrap.istio.io/proxy-instance-ip",
          "sidecar-bootstrap.istio.io/mesh-expansion-configmap",
          "proxy.istio.io/config",
          "sidecar.istio.io/interceptionMode",
          "sidecar.istio.io/proxyImage",
          "sidecar.istio.io/logLevel",
          "sidecar.istio.io/componentLogLevel",
          "sidecar.istio.io/statsInclusionPrefixes",
          "sidecar.istio.io/statsInclusionSuffixes",
          "sidecar.istio.io/statsInclusionRegexps");

  @Test
  void everyAnnotationOfTheReferenceIsCatalogued() {
    assertThat(Arrays.stream(BootstrapAnnotation.values()).map(BootstrapAnnotation::key))
        .containsExactlyInAnyOrderElementsOf(REFERENCE);
    for (String key : REFERENCE) {
      assertThat(BootstrapAnnotation.forKey(key)).as(key).isPresent();
    }
  }

  @Test
  void everyEntryHasADefaultAndADescriptionInTheText() {
    String text = BootstrapAnnotation.catalogue();
    for (BootstrapAnnotation annotation : BootstrapAnnotation.values()) {
      assertThat(annotation.defaultValue()).as(annotation.key()).isNotBlank();
      assertThat(annotation.description()).as(annotation.key()).endsWith(".");
      assertThat(text)
          .contains(annotation.key() + "\n  default: " + annotation.defaultValue() + "\n  ")
          .contains(annotation.description());
    }
  }

  @Test
  void theCatalogueSaysWhereCertificatesAreKept() {
    assertThat(BootstrapAnnotation.PROXY_CONFIG_DIR.description())
        .contains("<dir>" + ContainerBundleFactory.CERTIFICATE_DIRECTORY_SUFFIX);
  }
}
