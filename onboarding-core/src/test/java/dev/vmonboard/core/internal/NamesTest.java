package dev.vmonboard.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The one rule for characters and numbers that every name, path, host and number goes through. */
class NamesTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\u0000", // NUL
        "\t", // a C0 control
        "\u007f", // DEL
        "\u0085", // NEL, a C1 control
        "\u009b", // CSI, a C1 control terminals obey
        "\u00ad", // soft hyphen: format
        "\u200b", // zero-width space: format
        "\u200d", // zero-width joiner: format
        "\u202e", // right-to-left override: format
        "\u2066", // left-to-right isolate: format
        "\ufeff", // byte order mark: format
        "\u2028", // line separator
        "\u2029", // paragraph separator
        "\ue000", // private use
        "\ud800", // a lone high surrogate
        "\udc00", // a lone low surrogate
        "\u0378" // unassigned
      })
  void refusesEveryControlFormatSeparatorSurrogatePrivateUseAndUnassignedCharacter(String c) {
    assertThat(Names.hasForbidden("name" + c + "x")).isTrue();
    assertThat(Names.firstForbidden("name" + c + "x")).isEqualTo(4);
    assertThat(Names.describeForbidden("name" + c)).isNotEmpty();
    assertThat(Names.printable("name" + c)).doesNotContain(c).startsWith("name\\");
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain", "a b;$(x)", "café", "\u4e2d\u6587", "\ud83d\ude00 emoji"})
  void acceptsPrintableTextInAnyScript(String text) {
    assertThat(Names.hasForbidden(text)).isFalse();
    assertThat(Names.printable(text)).isEqualTo(text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "22", "022", "8080", "65535"})
  void readsAPortWrittenInAsciiDigits(String text) {
    assertThat(Names.parsePort(text)).hasValue(Integer.parseInt(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "0",
        "65536",
        "123456",
        " 22",
        "22 ",
        "\t22",
        "22\n",
        "+22",
        "-22",
        "2_2",
        "0x16",
        "\u0662\u0662", // Arabic-Indic digits: Integer.parseInt reads 22
        "\uff12\uff12", // full-width digits: Integer.parseInt reads 22
        "22\u200b",
        "\u00a022"
      })
  void refusesAnyOtherPort(String text) {
    assertThat(Names.parsePort(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " 1", "1 ", "+1", "-1", "1.0", "1e3", "\u0661", "1234567890"})
  void refusesAnyOtherNumber(String text) {
    assertThat(Names.parseNumber(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "7", "000", "999999999"})
  void readsANumberWrittenInAsciiDigits(String text) {
    assertThat(Names.parseNumber(text)).hasValue(Integer.parseInt(text));
  }
}
