package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Quoted words go through a real /bin/sh unchanged and run nothing. */
class ShellTest {

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "plain",
        "with space",
        "semi;colon",
        "a && touch INJECTED",
        "x | touch INJECTED",
        "$(touch INJECTED)",
        "`touch INJECTED`",
        "it's",
        "\"double\"",
        "new\nline",
        "tab\tand $HOME",
        "*",
        "~",
        "-n",
        "",
        "ünïcödé ‘quotes’"
      })
  void aQuotedWordReachesTheShellUnchanged(String value) throws Exception {
    String echoed = runSh("printf '%s' " + Shell.quote(value));

    assertThat(echoed).isEqualTo(value);
    assertThat(dir.resolve("INJECTED")).doesNotExist();
  }

  @Test
  void joinQuotesEveryWord() throws Exception {
    List<String> words = List.of("printf", "%s|", "a b", "$(touch INJECTED)", "c;d");

    assertThat(runSh(Shell.join(words))).isEqualTo("a b|$(touch INJECTED)|c;d|");
    assertThat(dir.resolve("INJECTED")).doesNotExist();
  }

  @Test
  void leavesSafeWordsReadable() {
    assertThat(Shell.join("docker", "run", "--name", "istio-proxy", "/etc/istio-proxy/x.pem"))
        .isEqualTo("docker run --name istio-proxy /etc/istio-proxy/x.pem");
  }

  @Test
  void refusesNul() {
    assertThatThrownBy(() -> Shell.quote("a\u0000b")).isInstanceOf(IllegalArgumentException.class);
  }

  private String runSh(String command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("/bin/sh", "-c", command).directory(dir.toFile()).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor()).isZero();
    Files.list(dir).forEach(p -> {});
    return new String(out, StandardCharsets.UTF_8);
  }
}
