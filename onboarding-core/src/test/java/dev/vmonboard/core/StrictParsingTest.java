package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.bundle.SystemdBundleFactory;
import dev.vmonboard.core.testing.TestMeshes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strict parsing at every point where the SDK takes a name, a path, a host or a number from
 * outside: ports and numbers by ASCII digits only, never trimmed; every Unicode control and format
 * character (and separators, lone surrogates, private-use and unassigned code points) refused.
 */
class StrictParsingTest {

  /** Characters Java calls control or format (and their kin) that older checks let through. */
  private static final String HIDDEN =
      "\u0085\u009b\u00ad\u200b\u202e\u2066\ufeff\u2028\u2029\ue000\u0378";

  private static Workload.Builder vm() {
    return Fixtures.vm("ns", "backend-vm", "10.0.0.4").toBuilder();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {" 22", "22 ", "\t22", "22\n", "+22", "\u0662\u0662", "\uff12\uff12", "22\u200b"})
  void theSshPortAnnotationIsAsciiDigitsWithNothingAround(String port) {
    Workload workload = vm().putAnnotations(BootstrapAnnotation.SSH_PORT.key(), port).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(BootstrapAnnotation.SSH_PORT.key())
        .hasMessageContaining("ASCII digits only");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void theConfigDirectoryRefusesEveryHiddenCharacter(int which) {
    String dir = "/etc/istio" + HIDDEN.charAt(which) + "proxy";
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), dir).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(BootstrapAnnotation.PROXY_CONFIG_DIR.key())
        .hasMessageNotContaining(String.valueOf(HIDDEN.charAt(which)));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 4, 7, 9})
  void theScpPathAnnotationRefusesHiddenCharacters(int which) {
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.SCP_PATH.key(), "/bin/scp" + HIDDEN.charAt(which))
            .build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .hasMessageContaining(BootstrapAnnotation.SCP_PATH.key());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 3, 4, 7, 9})
  void bundleFilePathsAndPortNamesRefuseHiddenCharacters(int which) {
    String hidden = String.valueOf(HIDDEN.charAt(which));
    assertThat(BundleFile.isSafeRelativePath("etc/a" + hidden + "b")).isFalse();
    assertThatThrownBy(() -> BundleFile.of("a" + hidden, 0644, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> vm().putPorts("http" + hidden, 8080).build().validate())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("spec.ports");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 4, 6, 7})
  void bundleValuesRefuseHiddenCharactersInBothStyles(int which) {
    Workload workload =
        vm().putAnnotations(
                "proxy.istio.io/config",
                "proxyMetadata:\n  A: \"x"
                    + String.format("\\u%04x", (int) HIDDEN.charAt(which))
                    + "y\"\n")
            .build();

    assertThatThrownBy(() -> ContainerBundleFactory.create().build(workload, TestMeshes.typical()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("proxyMetadata.A");
    assertThatThrownBy(() -> SystemdBundleFactory.create().build(workload, TestMeshes.typical()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("proxyMetadata.A");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\" 2\"", "\"2 \"", "\"+2\"", "\"\\u0662\""})
  void numbersInProxyConfigAreAsciiDigitsOnly(String concurrency) {
    Workload workload =
        vm().putAnnotations("proxy.istio.io/config", "concurrency: " + concurrency + "\n").build();

    assertThatThrownBy(() -> ContainerBundleFactory.create().build(workload, TestMeshes.typical()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("concurrency");
  }
}
