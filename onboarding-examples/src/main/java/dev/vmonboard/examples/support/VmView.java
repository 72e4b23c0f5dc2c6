package dev.vmonboard.examples.support;

import dev.vmonboard.core.Shell;
import dev.vmonboard.ssh.EmbeddedVm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** What an embedded VM holds, read from its filesystem and its stand-in container runtime. */
public final class VmView {

  private VmView() {}

  /**
   * One line per file under {@code dir}: mode, size, relative path. Files named in {@code secrets}
   * show their size only, never their content (nothing here prints content anyway).
   */
  public static List<String> files(Path dir, Set<String> secrets) {
    List<String> lines = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return lines;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path file : walk.sorted().toList()) {
        if (!Files.isRegularFile(file)) {
          continue;
        }
        String relative = dir.relativize(file).toString();
        lines.add(
            String.format(
                "%s %6d B  %s%s",
                mode(file),
                Files.size(file),
                relative,
                secrets.contains(relative) ? "   (secret: content not shown)" : ""));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return lines;
  }

  /** The POSIX mode of {@code file} in octal, e.g. {@code 0600}. */
  public static String mode(Path file) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      int mode = 0;
      for (PosixFilePermission permission : permissions) {
        mode |= 1 << (8 - permission.ordinal());
      }
      return String.format("%04o", mode);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every {@code docker}/{@code podman} call the VM received, as shell command lines. */
  public static List<String> containerCommands(EmbeddedVm vm) {
    List<String> commands = new ArrayList<>();
    for (List<String> call : vm.toolCalls()) {
      if (!call.isEmpty() && (call.get(0).equals("docker") || call.get(0).equals("podman"))) {
        commands.add(Shell.join(call));
      }
    }
    return commands;
  }

  /** The last {@code docker run} the VM received, wrapped one option per line. */
  public static List<String> lastRunCommand(EmbeddedVm vm) {
    List<String> run = null;
    for (List<String> call : vm.toolCalls()) {
      if (call.size() > 1
          && (call.get(0).equals("docker") || call.get(0).equals("podman"))
          && call.get(1).equals("run")) {
        run = call;
      }
    }
    return run == null ? List.of() : wrap(run);
  }

  /** Options of {@code docker run} that take a value. */
  private static final Set<String> TAKES_VALUE =
      Set.of("--name", "--restart", "--network", "-v", "--volume", "--env-file", "--add-host");

  /**
   * {@code docker run} words as a shell command: each option with a value on its own line, then the
   * image, then the proxy's arguments.
   */
  static List<String> wrap(List<String> words) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder(Shell.quote(words.get(0)));
    int i = 1;
    while (i < words.size()) {
      String word = words.get(i);
      if (TAKES_VALUE.contains(word) && i + 1 < words.size()) {
        lines.add(line + " \\");
        line = new StringBuilder("    " + Shell.join(word, words.get(i + 1)));
        i += 2;
      } else if (word.startsWith("-") || i == 1) {
        line.append(' ').append(Shell.quote(word));
        i++;
      } else {
        lines.add(line + " \\");
        line = new StringBuilder("    " + Shell.quote(word));
        if (i + 1 < words.size()) {
          lines.add(line + " \\");
          line = new StringBuilder("    " + Shell.join(words.subList(i + 1, words.size())));
        }
        break;
      }
    }
    lines.add(line.toString());
    return lines;
  }
}
