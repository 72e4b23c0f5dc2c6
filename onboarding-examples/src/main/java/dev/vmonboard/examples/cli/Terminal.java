package dev.vmonboard.examples.cli;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Where secrets typed by the user come from: the console without echo, else standard input. */
@FunctionalInterface
interface Terminal {

  /**
   * Asks for a secret.
   *
   * @return the secret, or null when there is nothing to read
   */
  char[] readSecret(String prompt);

  /**
   * The console when there is one (no echo); else one line of {@code in} per question, the prompt
   * on {@code err} (for {@code echo "$PASSWORD" | sidecar-bootstrap ...}).
   */
  static Terminal system(InputStream in, PrintStream err) {
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    return prompt -> {
      Console console = System.console();
      if (console != null) {
        return console.readPassword("%s", prompt);
      }
      err.print(prompt);
      err.flush();
      try {
        String line = lines.readLine();
        err.println();
        return line == null ? null : line.toCharArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }
}
