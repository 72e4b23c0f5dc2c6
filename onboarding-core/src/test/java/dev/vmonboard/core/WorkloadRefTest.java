package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WorkloadRefTest {

  @ParameterizedTest
  @CsvSource({
    "backend-vm,          default, default, backend-vm",
    "backend-vm.ns,       default, ns,      backend-vm",
    "vm.with.dots.ns,     default, ns,      vm.with.dots",
    "a.b,                 x,       b,       a"
  })
  void parsesNameDotNamespaceLikeKubectlUsersTypeIt(
      String text, String defaultNamespace, String namespace, String name) {
    WorkloadRef ref = WorkloadRef.parse(text, defaultNamespace);

    assertThat(ref.namespace()).isEqualTo(namespace);
    assertThat(ref.name()).isEqualTo(name);
    assertThat(ref).hasToString(namespace + "/" + name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", " ", ".ns", "vm.", "Backend-VM.ns", "vm;rm -rf /.ns", "vm.n$s", "vm..ns"})
  void refusesReferencesThatDoNotParseNamingTheField(String text) {
    assertThatThrownBy(() -> WorkloadRef.parse(text, "default"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("invalid workload reference")
        .satisfies(
            e ->
                assertThat(((InvalidInputException) e).problems())
                    .allSatisfy(p -> assertThat(p.field()).isIn("reference", "name", "namespace")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "x\u0000y"})
  void showsControlCharactersEscapedInMessages(String name) {
    assertThatThrownBy(() -> WorkloadRef.of("ns", name))
        .hasMessageNotContaining("\n")
        .hasMessageNotContaining("\u0000")
        .hasMessageContaining("\\x");
  }

  @org.junit.jupiter.api.Test
  void sortsByNamespaceThenName() {
    assertThat(WorkloadRef.of("a", "z")).isLessThan(WorkloadRef.of("b", "a"));
    assertThat(WorkloadRef.of("a", "a")).isLessThan(WorkloadRef.of("a", "b"));
  }
}
