package dev.vmonboard.examples.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The command line's options, for documentation and its checks. */
public final class SidecarBootstrapOptions {

  private SidecarBootstrapOptions() {}

  /**
   * The longest name of every option of {@code sidecar-bootstrap} but help and version, e.g. {@code
   * --ssh-key}.
   */
  public static List<String> longNames() {
    CommandLine line =
        new CommandLine(new SidecarBootstrap(System.out, System.err, prompt -> null, null));
    List<String> names = new ArrayList<>();
    for (OptionSpec option : line.getCommandSpec().options()) {
      if (!option.usageHelp() && !option.versionHelp()) {
        names.add(option.longestName());
      }
    }
    return names;
  }
}
