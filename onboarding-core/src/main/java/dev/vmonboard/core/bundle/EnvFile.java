package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Shell;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The variables of an environment file, each at most once: setting a variable again replaces its
 * value and moves it to the end, so that later (higher-priority) sources win without duplicate
 * lines. Every value is checked to fit on one line; a value that does not is recorded as a problem
 * of its source and left out.
 */
final class EnvFile {

  private final Checks checks;
  private final Map<String, String> values = new LinkedHashMap<>();

  EnvFile(Checks checks) {
    this.checks = checks;
  }

  /** Sets {@code name} to {@code value}, which comes from {@code source} (for messages). */
  EnvFile put(String name, String value, String source) {
    if (checks.line(source, value)) {
      values.remove(name);
      values.put(name, value);
    }
    return this;
  }

  /** Sets every variable of {@code variables}, each from {@code source}{@code .NAME}. */
  EnvFile putAll(Map<String, String> variables, String source) {
    variables.forEach((name, value) -> put(name, value, source + "." + name));
    return this;
  }

  /** The variables, in order. */
  Map<String, String> values() {
    return values;
  }

  /**
   * Docker's {@code --env-file} format: {@code NAME=value} lines in order, values as they are
   * (docker takes the rest of the line literally, quotes included).
   */
  byte[] dockerFormat() {
    StringBuilder text = new StringBuilder();
    values.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A shell-sourceable file: {@code NAME='value'} lines sorted by name, every value single-quoted
   * by {@link Shell#quote(String)} (which leaves safe words bare; they are quoted here too, as
   * Istio's own files are).
   */
  byte[] shellFormat() {
    StringBuilder text = new StringBuilder();
    new TreeMap<>(values)
        .forEach(
            (name, value) -> {
              String quoted = Shell.quote(value);
              text.append(name).append('=');
              if (quoted.startsWith("'")) {
                text.append(quoted);
              } else {
                text.append('\'').append(quoted).append('\'');
              }
              text.append('\n');
            });
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }
}
