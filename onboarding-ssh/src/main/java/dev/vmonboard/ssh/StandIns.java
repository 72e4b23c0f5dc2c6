package dev.vmonboard.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The stand-in tools of a test VM and their state, laid out under one base directory.
 *
 * <ul>
 *   <li>{@code bin/}: stand-in {@code docker}, {@code podman}, {@code systemctl}, {@code sudo} and,
 *       as chosen, {@code curl} and {@code wget}; every call is recorded in {@code state/calls}.
 *   <li>{@code toolbox/}: links to the real POSIX tools the SDK documents as its requirements on a
 *       VM (and no others), so that a test proves the SDK needs nothing more.
 *   <li>{@code state/}: containers, units, probes and the controls a test sets.
 * </ul>
 *
 * Used by {@link EmbeddedVm} and by tests that put the same stand-ins behind a real OpenSSH server.
 */
final class StandIns {

  /** The real tools a VM needs (documented in the package overview), plus {@code scp}. */
  static final List<String> TOOLBOX =
      List.of(
          "sh",
          "[",
          "test",
          "cat",
          "chmod",
          "chown",
          "cksum",
          "cp",
          "cut",
          "date",
          "df",
          "dirname",
          "basename",
          "echo",
          "env",
          "grep",
          "head",
          "id",
          "install",
          "kill",
          "ln",
          "ls",
          "mkdir",
          "mv",
          "printf",
          "rm",
          "rmdir",
          "sed",
          "sleep",
          "sort",
          "tail",
          "touch",
          "tr",
          "true",
          "false",
          "uname",
          "wc",
          "tee",
          "sha256sum",
          "timeout",
          "scp");

  private static final List<String> SEARCH = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

  /** Which HTTP client the VM offers for the readiness probe. */
  enum Http {
    CURL,
    WGET,
    BOTH,
    NONE
  }

  private final Path bin;
  private final Path toolbox;
  private final Path state;

  private StandIns(Path base) {
    this.bin = base.resolve("bin");
    this.toolbox = base.resolve("toolbox");
    this.state = base.resolve("state");
  }

  /** Writes the stand-ins under {@code base} (which must exist). */
  static StandIns create(Path base, Http http) throws IOException {
    StandIns s = new StandIns(base);
    Path tools = base.resolve("tools");
    for (Path dir : List.of(s.bin, s.toolbox, tools, s.state.resolve("control"))) {
      Files.createDirectories(dir);
    }
    Files.createDirectories(s.state.resolve("units").resolve("istio"));
    Files.createDirectories(s.state.resolve("containers"));
    Files.write(s.state.resolve("calls"), new byte[0]);
    Map<String, String> substitutions =
        Map.of("@STATE@", s.state.toString(), "@TOOLS@", tools.toString());
    Files.writeString(tools.resolve("lib.sh"), resource("lib.sh", substitutions));
    Map<String, String> scripts = new LinkedHashMap<>();
    scripts.put("docker", "runtime.sh");
    scripts.put("podman", "runtime.sh");
    scripts.put("systemctl", "systemctl.sh");
    scripts.put("sudo", "sudo.sh");
    if (http == Http.CURL || http == Http.BOTH) {
      scripts.put("curl", "curl.sh");
    }
    if (http == Http.WGET || http == Http.BOTH) {
      scripts.put("wget", "wget.sh");
    }
    for (Map.Entry<String, String> e : scripts.entrySet()) {
      Path script = s.bin.resolve(e.getKey());
      Files.writeString(script, resource(e.getValue(), substitutions));
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    for (String tool : TOOLBOX) {
      for (String dir : SEARCH) {
        Path real = Path.of(dir, tool);
        if (Files.isExecutable(real)) {
          Files.createSymbolicLink(s.toolbox.resolve(tool), real);
          break;
        }
      }
    }
    return s;
  }

  private static String resource(String name, Map<String, String> substitutions)
      throws IOException {
    try (InputStream in = StandIns.class.getResourceAsStream("standin/" + name)) {
      if (in == null) {
        throw new IOException("missing stand-in resource " + name);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      for (Map.Entry<String, String> e : substitutions.entrySet()) {
        text = text.replace(e.getKey(), e.getValue().replace("'", "'\\''"));
      }
      return text;
    }
  }

  /** Deletes the toolbox's links (so that deleting the base never follows or warns about them). */
  void removeToolbox() throws IOException {
    try (Stream<Path> links = Files.list(toolbox)) {
      for (Path link : (Iterable<Path>) links::iterator) {
        Files.delete(link);
      }
    }
  }

  /** The {@code PATH} of the VM's commands: stand-ins first, then the toolbox, nothing else. */
  String path() {
    return bin + ":" + toolbox;
  }

  void control(String name, String content) {
    try {
      Files.writeString(state.resolve("control").resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void containerExitsAtOnce(String container) {
    control("exit-at-once-" + checkedName(container), "");
  }

  void containerResistsRemoval(String container) {
    control("rm-fails-" + checkedName(container), "");
  }

  private static String checkedName(String container) {
    if (!NAME.matcher(container).matches()) {
      throw new IllegalArgumentException("not a container name: " + container);
    }
    return container;
  }

  /** Every recorded call of a stand-in tool, in order; each is the tool's name, then its args. */
  List<List<String>> calls() {
    byte[] log;
    try {
      log = Files.readAllBytes(state.resolve("calls"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> words = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < log.length; i++) {
      if (log[i] == 0) {
        words.add(new String(log, start, i - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    List<List<String>> calls = new ArrayList<>();
    int i = 0;
    while (i < words.size()) {
      int count = Integer.parseInt(words.get(i));
      int end = Math.min(words.size(), i + 1 + count);
      calls.add(List.copyOf(words.subList(i + 1, end)));
      i = end;
    }
    return calls;
  }

  /** Forgets every container, as if the VM's runtime had been reset. */
  void removeContainers() throws IOException {
    Path containers = state.resolve("containers");
    try (Stream<Path> dirs = Files.walk(containers)) {
      for (Path path : dirs.sorted(Comparator.reverseOrder()).toList()) {
        if (!path.equals(containers)) {
          Files.delete(path);
        }
      }
    }
  }

  /** Container name to status ({@code running}, {@code exited}). */
  Map<String, String> containers() {
    Map<String, String> result = new TreeMap<>();
    try (Stream<Path> dirs = Files.list(state.resolve("containers"))) {
      for (Path dir : (Iterable<Path>) dirs::iterator) {
        Path status = dir.resolve("status");
        if (Files.isRegularFile(status)) {
          result.put(dir.getFileName().toString(), Files.readString(status).strip());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return result;
  }

  boolean unitFlag(String unit, String flag) {
    return Files.exists(state.resolve("units").resolve(unit).resolve(flag));
  }
}
