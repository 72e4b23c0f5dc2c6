package dev.vmonboard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.examples.cli.SidecarBootstrapOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's parts about the examples true: its first command is the demo, its annotation
 * catalogue is the one the code has, its table of options lists every option the command line has.
 */
class ReadmeTest {

  static final String DEMO_COMMAND = "mvn -B -q -pl onboarding-examples -am compile -Ddemo";
  static final String START =
      "<!-- annotation-catalogue: generated from BootstrapAnnotation.catalogue() by ReadmeTest -->";
  static final String END = "<!-- annotation-catalogue: end -->";

  static Path readme() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isRegularFile(dir.resolve("README.md"))
          && Files.isDirectory(dir.resolve("onboarding-examples"))) {
        return dir.resolve("README.md");
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("no README.md above " + Path.of("").toAbsolutePath());
  }

  @Test
  void theFirstCommandRunsTheDemoAndTheSecondTheTests() throws IOException {
    List<String> commands = new ArrayList<>();
    boolean inBlock = false;
    for (String line : Files.readAllLines(readme())) {
      if (line.startsWith("```")) {
        if (inBlock) {
          break;
        }
        inBlock = true;
      } else if (inBlock) {
        commands.add(line.replaceAll("\\s+#.*", "").strip());
      }
    }
    assertThat(commands).containsExactly(DEMO_COMMAND, "mvn -B verify");
  }

  @Test
  void theAnnotationCatalogueMatchesTheCode() throws IOException {
    String readme = Files.readString(readme());
    String expected = START + "\n" + table() + END;
    int start = readme.indexOf(START);
    int end = readme.indexOf(END);
    String actual = start < 0 || end < start ? "" : readme.substring(start, end + END.length());
    if (!actual.equals(expected)) {
      Path generated = Path.of("target", "README-annotation-catalogue.md");
      Files.createDirectories(generated.getParent());
      Files.writeString(generated, expected + "\n");
      assertThat(actual)
          .as(
              "README.md's annotation catalogue differs from BootstrapAnnotation.catalogue():"
                  + " replace it with %s",
              generated.toAbsolutePath())
          .isEqualTo(expected);
    }
  }

  @Test
  void theOptionsTableListsEveryOptionOfTheCommandLine() throws IOException {
    String readme = Files.readString(readme());
    for (String option : SidecarBootstrapOptions.longNames()) {
      assertThat(readme)
          .as("README.md's table of options lacks " + option)
          .containsPattern("\\| `[^`]*" + Pattern.quote(option) + "(?![-a-z])[^`]*`");
    }
  }

  /** The catalogue as a Markdown table, parsed from the text of {@code catalogue()}. */
  static String table() {
    StringBuilder table = new StringBuilder();
    table.append("| annotation | default | what it does |\n| --- | --- | --- |\n");
    for (String block : BootstrapAnnotation.catalogue().split("\n\n")) {
      if (block.isBlank()) {
        continue;
      }
      String[] lines = block.split("\n");
      String key = lines[0].strip();
      String defaultValue = lines[1].strip().substring("default:".length()).strip();
      StringBuilder description = new StringBuilder();
      for (int i = 2; i < lines.length; i++) {
        description.append(description.length() == 0 ? "" : " ").append(lines[i].strip());
      }
      table
          .append("| `")
          .append(key)
          .append("` | ")
          .append(defaultValue.contains(" ") ? escape(defaultValue) : "`" + defaultValue + "`")
          .append(" | ")
          .append(escape(description.toString()))
          .append(" |\n");
    }
    return table.toString();
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|");
  }
}
