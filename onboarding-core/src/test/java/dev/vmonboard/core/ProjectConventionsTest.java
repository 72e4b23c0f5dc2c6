package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Conventions of the whole project, checked on the sources of every module: every public type
 * carries Javadoc.
 */
class ProjectConventionsTest {

  private static final Pattern PUBLIC_TYPE =
      Pattern.compile(
          "^\\s*public\\s+(static\\s+|final\\s+|abstract\\s+|sealed\\s+|non-sealed\\s+)*"
              + "(class|interface|enum|record|@interface)\\s+\\w+.*");

  @Test
  void everyPublicTypeHasJavadoc() throws IOException {
    Path root = projectRoot();
    List<String> missing = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(root)) {
      sources =
          walk.filter(path -> path.toString().endsWith(".java"))
              .filter(path -> path.toString().contains("/src/main/java/"))
              .filter(path -> !path.toString().contains("/target/"))
              .toList();
    }
    for (Path source : sources) {
      List<String> lines = Files.readAllLines(source);
      for (int i = 0; i < lines.size(); i++) {
        if (PUBLIC_TYPE.matcher(lines.get(i)).matches() && !documented(lines, i)) {
          missing.add(root.relativize(source) + ":" + (i + 1));
        }
      }
    }
    assertThat(sources).isNotEmpty();
    assertThat(missing).as("public types without Javadoc").isEmpty();
  }

  /** Walks back over annotations (which may span lines) to the comment before them, if any. */
  private static boolean documented(List<String> lines, int declaration) {
    for (int i = declaration - 1; i >= 0; i--) {
      String line = lines.get(i).trim();
      if (line.endsWith("*/")) {
        return true;
      }
      if (line.isEmpty() || line.endsWith(";") || line.endsWith("{") || line.endsWith("}")) {
        return false;
      }
    }
    return false;
  }

  static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("onboarding-core"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "cannot find the project root from " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
