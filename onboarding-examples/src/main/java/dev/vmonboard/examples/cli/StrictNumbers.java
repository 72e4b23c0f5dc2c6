package dev.vmonboard.examples.cli;

import dev.vmonboard.core.internal.Names;
import java.util.OptionalInt;
import picocli.CommandLine;

/**
 * Reads the numbers of the command line by the SDK's one rule ({@link Names#parsePort(String)},
 * {@link Names#parseNumber(String)}): ASCII digits only, nothing around them. picocli's own
 * converter takes a sign and any script's digits ({@code --ssh-port ٢٢}).
 */
final class StrictNumbers {

  private StrictNumbers() {}

  /** A TCP port, 1-65535. */
  static final class Port implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String text) {
      return orRefuse(Names.parsePort(text), text, "a port (1-65535)");
    }
  }

  /** A whole number, at least 0; a caller's own check sets any lower bound. */
  static final class Count implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String text) {
      return orRefuse(Names.parseNumber(text), text, "a whole number");
    }
  }

  private static Integer orRefuse(OptionalInt number, String text, String expected) {
    if (number.isPresent()) {
      return number.getAsInt();
    }
    throw new CommandLine.TypeConversionException(
        "'" + Names.printable(text) + "' is not " + expected + " written in ASCII digits");
  }
}
