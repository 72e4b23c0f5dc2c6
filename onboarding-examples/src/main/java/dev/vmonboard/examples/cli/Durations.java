package dev.vmonboard.examples.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Reads durations as {@code tctl} and {@code kubectl} users type them ({@code 24h}, {@code 90s},
 * {@code 1h30m}, {@code 500ms}), or in ISO-8601 ({@code PT1H}).
 */
final class Durations implements CommandLine.ITypeConverter<Duration> {

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s)");

  @Override
  public Duration convert(String text) {
    return parse(text);
  }

  static Duration parse(String text) {
    String value = text;
    if (value.startsWith("P") || value.startsWith("p")) {
      try {
        return positive(Duration.parse(value), text);
      } catch (DateTimeParseException e) {
        throw invalid(text);
      }
    }
    Matcher part = PART.matcher(value);
    Duration total = Duration.ZERO;
    int end = 0;
    while (part.find() && part.start() == end) {
      if (part.group(1).length() > 12) {
        throw invalid(text);
      }
      long amount = Long.parseLong(part.group(1));
      total =
          switch (part.group(2)) {
            case "h" -> total.plusHours(amount);
            case "m" -> total.plusMinutes(amount);
            case "s" -> total.plusSeconds(amount);
            default -> total.plusMillis(amount);
          };
      end = part.end();
    }
    if (end == 0 || end != value.length()) {
      throw invalid(text);
    }
    return positive(total, text);
  }

  private static Duration positive(Duration duration, String text) {
    if (duration.isZero() || duration.isNegative()) {
      throw new CommandLine.TypeConversionException("'" + text + "' is not a positive duration");
    }
    return duration;
  }

  private static CommandLine.TypeConversionException invalid(String text) {
    return new CommandLine.TypeConversionException(
        "'" + text + "' is not a duration; write e.g. 24h, 30m, 90s, 1h30m, 500ms or PT1H");
  }

  /** {@code 1h30m}, {@code 10s}, {@code 500ms}: the way {@link #parse} reads it. */
  static String format(Duration duration) {
    StringBuilder text = new StringBuilder();
    long hours = duration.toHours();
    int minutes = duration.toMinutesPart();
    int seconds = duration.toSecondsPart();
    int millis = duration.toMillisPart();
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (minutes > 0) {
      text.append(minutes).append('m');
    }
    if (seconds > 0) {
      text.append(seconds).append('s');
    }
    if (millis > 0 || text.length() == 0) {
      text.append(millis).append("ms");
    }
    return text.toString();
  }
}
