package dev.vmonboard.examples.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Small text helpers shared by the examples' output. */
public final class Texts {

  private Texts() {}

  /** {@code 812 ms} below ten seconds, {@code 12.3 s} above. */
  public static String millis(Duration duration) {
    long ms = duration.toMillis();
    return ms < 10_000 ? ms + " ms" : String.format("%.1f s", ms / 1000.0);
  }

  /** Each line of {@code text} prefixed with {@code indent}. */
  public static List<String> indent(String indent, String text) {
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!line.isEmpty()) {
        lines.add(indent + line);
      }
    }
    return lines;
  }

  /**
   * Rows as a table with columns padded to their widest cell; the last column is not padded.
   *
   * @param rows the rows, the first one being the header
   */
  public static List<String> table(String indent, List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns - 1; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    List<String> lines = new ArrayList<>();
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder(indent);
      for (int i = 0; i < columns; i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      lines.add(line.toString().stripTrailing());
    }
    return lines;
  }
}
