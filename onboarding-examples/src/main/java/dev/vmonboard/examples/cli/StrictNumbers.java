package dev.vmonboard.examples.cli;

import dev.vmonboard.core.internal.Names;
import java.util.OptionalInt;
import picocli.CommandLine;

/**
 * Reads a number of the command line ({@code --ssh-port}, {@code --concurrency}) by the SDK's one
 * rule ({@link Names#parseNumber(String)}): ASCII digits only, nothing around them. picocli's own
 * converter takes a sign and any script's digits (Arabic-Indic, full-width). The option's own check
 * then says what range it takes.
 */
final class StrictNumbers implements CommandLine.ITypeConverter<Integer> {

  @Override
  public Integer convert(String text) {
    OptionalInt number = Names.parseNumber(text);
    if (number.isPresent()) {
      return number.getAsInt();
    }
    throw new CommandLine.TypeConversionException(
        "'" + Names.printable(text) + "' is not a whole number written in ASCII digits");
  }
}
