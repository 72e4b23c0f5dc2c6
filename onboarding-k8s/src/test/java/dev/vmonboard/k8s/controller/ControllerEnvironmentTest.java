package dev.vmonboard.k8s.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The controller's settings from its environment: numbers by the SDK's strict rule. */
class ControllerEnvironmentTest {

  @ParameterizedTest
  @ValueSource(strings = {"1", "8", "64"})
  void concurrencyIsReadFromAsciiDigits(String text) {
    assertThat(ControllerEnvironment.number("CONCURRENCY", text)).isEqualTo(Integer.parseInt(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " 8", "8\n", "+8", "\u0668", "\uff18", "eight"})
  void anyOtherConcurrencyIsRefusedNamingTheVariable(String text) {
    assertThatThrownBy(() -> ControllerEnvironment.number("CONCURRENCY", text))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CONCURRENCY")
        .hasMessageContaining("ASCII digits");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "16 ", "\u0661\u0666", "sixteen"})
  void aShardCountThatIsNotAsciiDigitsIsRefusedNamingTheVariable(String text) {
    assertThatThrownBy(
            () ->
                ControllerEnvironment.configure(
                    null, java.util.Map.of("POD_NAMESPACE", "vmonboard", "SHARDS", text)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("SHARDS")
        .hasMessageContaining("ASCII digits");
  }
}
