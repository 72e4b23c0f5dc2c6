package dev.vmonboard.core.bundle;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.InvalidInputException;
import dev.vmonboard.core.LaunchSpec;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.WorkloadRef;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The offline layout of one bundle, shared by the directory and the archive: {@code etc/} with the
 * bundle's files (same modes, the token 0600) and {@code bin/start-istio-proxy.sh}, a POSIX shell
 * script that starts the proxy from the {@code etc/} next to it, wherever the layout was copied.
 *
 * <p>Every value in the script is quoted with {@link Shell#quote(String)}; the one thing known only
 * when the script runs, the location of {@code etc/}, is the shell variable {@code etc}, quoted
 * too.
 */
final class OfflineLayout {

  /** The directory with the bundle's files. */
  static final String ETC = "etc";

  /** The directory with the script. */
  static final String BIN = "bin";

  /** The script, relative to the layout's root. */
  static final String START_SCRIPT = BIN + "/start-istio-proxy.sh";

  static final int DIRECTORY_MODE = 0750;
  static final int SCRIPT_MODE = 0755;

  /**
   * Stands for the config directory while rendering; a NUL cannot occur in any value that reaches a
   * script (the shell could not take it), so it cannot be confused with one.
   */
  private static final String CONFIG_DIR = "\0";

  private static final String CONFIG_DIR_IN_SCRIPT = "\"$etc\"";

  /** How the script's second line starts; the workload follows it. */
  private static final String HEADER = "# Starts the Istio proxy of ";

  private static final String HEADER_END = " from the files in ../etc";

  /** One entry of the layout: a directory (no content) or a file. */
  record Entry(String path, int mode, byte[] content) {
    boolean directory() {
      return content == null;
    }
  }

  private OfflineLayout() {}

  /**
   * The entries of {@code bundle}'s layout, parents before children, paths relative to the layout's
   * root.
   *
   * @throws StageException when the bundle has no token or a launch the layout cannot start
   */
  static List<Entry> entries(Bundle bundle) {
    if (!bundle.hasToken()) {
      throw StageException.permanent(
          "the bundle of " + bundle.workload() + " has no token",
          "deliver bundles through the pipeline, or add the token with Bundle.withToken");
    }
    String script = startScript(bundle);
    List<Entry> entries = new ArrayList<>();
    Set<String> directories = new LinkedHashSet<>();
    directories.add(ETC);
    for (BundleFile file : bundle.files()) {
      String path = ETC + "/" + file.path();
      for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
        directories.add(path.substring(0, slash));
      }
    }
    directories.add(BIN);
    for (String directory : directories) {
      entries.add(new Entry(directory, DIRECTORY_MODE, null));
    }
    for (BundleFile file : bundle.files()) {
      entries.add(new Entry(ETC + "/" + file.path(), file.mode(), file.content()));
    }
    entries.add(new Entry(START_SCRIPT, SCRIPT_MODE, Inputs.utf8(script)));
    return entries;
  }

  /**
   * The names, in a layout, of the directories the proxy keeps state in (a container launch's
   * {@linkplain ContainerLaunch.HostDirectory host directories}: {@code etc} and their suffix).
   */
  static List<String> stateDirectories(Bundle bundle) {
    List<String> names = new ArrayList<>();
    if (bundle.launch() instanceof ContainerLaunch container) {
      for (ContainerLaunch.HostDirectory directory : container.hostDirectories()) {
        names.add(directory.path(ETC));
      }
    }
    return names;
  }

  /** Whether {@code name} may be a state directory of a layout ({@code etc} and a suffix). */
  static boolean isStateDirectory(String name) {
    return name.startsWith(ETC) && name.length() > ETC.length();
  }

  /**
   * The workload whose layout a start script belongs to, read from its header; empty for a text
   * that is not a start script of this layout.
   */
  static Optional<WorkloadRef> workloadOf(String script) {
    int start = script.indexOf('\n') + 1;
    int end = script.indexOf(HEADER_END, start);
    int slash = script.indexOf('/', start);
    if (start == 0 || !script.startsWith(HEADER, start) || end < 0 || slash < 0 || slash > end) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          WorkloadRef.of(
              script.substring(start + HEADER.length(), slash), script.substring(slash + 1, end)));
    } catch (InvalidInputException e) {
      return Optional.empty();
    }
  }

  /**
   * Refuses to put {@code workload}'s layout where {@code holder}'s is: a single-workload
   * destination holds one workload.
   *
   * @throws StageException when {@code holder} is another workload
   */
  static void refuseOther(
      Optional<WorkloadRef> holder, WorkloadRef workload, Object destination, String alternative) {
    if (holder.isPresent() && !holder.get().equals(workload)) {
      throw StageException.permanent(
          destination
              + " already holds the bundle of "
              + holder.get()
              + "; it cannot also hold "
              + workload,
          "remove that bundle first, or use " + alternative + " for several workloads");
    }
  }

  /**
   * Whether {@code path}, relative to a layout's root, can be part of a layout: {@code etc} and
   * what is under it, {@code bin} and the start script.
   */
  static boolean isLayoutPath(String path) {
    return path.equals(ETC)
        || path.startsWith(ETC + "/")
        || path.equals(BIN)
        || path.equals(START_SCRIPT);
  }

  /** The name of a workload's sub-directory when a layout holds several: {@code name.namespace}. */
  static String directoryName(WorkloadRef workload) {
    return workload.name() + "." + workload.namespace();
  }

  /** What a delivery writes, one line per file, the token redacted. */
  static List<String> describe(Bundle bundle, String where) {
    List<String> lines = new ArrayList<>();
    lines.add("write " + where + ":");
    for (String file : bundle.manifest()) {
      int space = file.indexOf(' ');
      lines.add("  " + file.substring(0, space + 1) + ETC + "/" + file.substring(space + 1));
    }
    lines.add("  " + String.format("%04o", SCRIPT_MODE) + " " + START_SCRIPT);
    return lines;
  }

  /**
   * The start script of {@code bundle}.
   *
   * @throws StageException for a launch other than {@link ContainerLaunch} or {@link SystemdLaunch}
   */
  static String startScript(Bundle bundle) {
    LaunchSpec launch = bundle.launch();
    StringBuilder script = new StringBuilder();
    script
        .append("#!/bin/sh\n")
        .append(HEADER)
        .append(bundle.workload())
        .append(HEADER_END)
        .append(" (written by vmonboard).\n");
    if (launch instanceof ContainerLaunch container) {
      script.append(
          "# The container runtime is docker unless CONTAINER_RUNTIME names another (podman).\n");
      preamble(script);
      script.append("runtime=${CONTAINER_RUNTIME:-docker}\n");
      hostDirectories(script, container, bundle);
      script
          .append("\"$runtime\" rm -f ")
          .append(Shell.quote(container.containerName()))
          .append(" >/dev/null 2>&1 || true\n");
      script.append(runCommand(container)).append('\n');
    } else if (launch instanceof SystemdLaunch systemd) {
      script.append("# Run it as root on a VM with the istio-sidecar package installed.\n");
      preamble(script);
      for (SystemdLaunch.FileInstall install : systemd.installs()) {
        script.append(install(install)).append('\n');
      }
      script
          .append("systemctl enable ")
          .append(Shell.quote(systemd.serviceName()))
          .append('\n')
          .append("systemctl restart ")
          .append(Shell.quote(systemd.serviceName()))
          .append('\n');
    } else {
      throw StageException.permanent(
          "an offline layout cannot start a " + launch.getClass().getSimpleName(),
          "use a ContainerLaunch or a SystemdLaunch");
    }
    return script.toString();
  }

  /**
   * The shell functions that prepare the container's host directories (the agent's certificates
   * next to {@code etc/}) under the rule of {@link LocalFiles}, on the VM: a directory is created
   * owner-only, or, when it exists, used only if it is a real directory (not a link) of the user
   * running the script that no one else can write, under directories that belong to that user or
   * root and that others cannot write unless sticky; a seed file is written to a new file with an
   * unpredictable name ({@code mktemp}) in that directory and renamed over the old one, never
   * written through a link, and a link or special file in its place is refused.
   *
   * <p>POSIX {@code sh} has no {@code lstat}: {@code find DIR -prune -type d -user UID ! -perm -020
   * ...} does the checks, as find does not follow links by default. POSIX {@code mv} cannot be told
   * that its target is not a directory; GNU {@code mv -T} can and is used where there is one,
   * elsewhere the check just before the rename is the guard.
   */
  private static final String HOST_DIRECTORY_FUNCTIONS =
      "me=$(id -u)\n"
          + "mv_t=\n"
          + "if mv --help 2>&1 | grep -q -e --no-target-directory; then mv_t=-T; fi\n"
          + "refuse() { printf 'start-istio-proxy.sh: %s\\n' \"$1\" >&2; exit 1; }\n"
          + "# own_dir DIR: a directory (not a link) of this user that no one else can write.\n"
          + "own_dir() {\n"
          + "  [ -n \"$(find \"$1\" -prune -type d -user \"$me\" ! -perm -020 ! -perm -002"
          + " -print)\" ]\n"
          + "}\n"
          + "# safe_parent DIR: of this user or root, and writable by others only if sticky.\n"
          + "safe_parent() {\n"
          + "  [ -n \"$(find \"$1\" -prune -type d \\( -user \"$me\" -o -user 0 \\)"
          + " \\( -perm -1000 -o \\( ! -perm -020 ! -perm -002 \\) \\) -print)\" ]\n"
          + "}\n"
          + "# host_dir DIR: creates DIR 0700, or checks the one there and every directory above.\n"
          + "host_dir() {\n"
          + "  up=$(dirname -- \"$1\")\n"
          + "  while :; do\n"
          + "    safe_parent \"$up\""
          + " || refuse \"$up can be changed by another user: not writing below it\"\n"
          + "    [ \"$up\" = / ] && break\n"
          + "    up=$(dirname -- \"$up\")\n"
          + "  done\n"
          + "  if [ ! -e \"$1\" ] && [ ! -L \"$1\" ]; then mkdir -m 0700 -- \"$1\"; fi\n"
          + "  own_dir \"$1\" || refuse \"$1 is a link, not a directory, not owned by uid $me or"
          + " writable by others: not writing to it\"\n"
          + "}\n"
          + "# seed SOURCE DIR NAME MODE: copies SOURCE to DIR/NAME by a new file and a rename.\n"
          + "seed() {\n"
          + "  { [ -f \"$1\" ] && [ ! -L \"$1\" ]; } || refuse \"$1 is not a regular file\"\n"
          + "  if [ -L \"$2/$3\" ] || { [ -e \"$2/$3\" ] && [ ! -f \"$2/$3\" ]; }; then\n"
          + "    refuse \"$2/$3 is a link or not a regular file: not replacing it\"\n"
          + "  fi\n"
          + "  tmp=$(mktemp \"$2/.$3.XXXXXX\")\n"
          + "  cat -- \"$1\" > \"$tmp\" && chmod \"$4\" \"$tmp\""
          + " && mv -f $mv_t -- \"$tmp\" \"$2/$3\" || { rm -f -- \"$tmp\"; exit 1; }\n"
          + "}\n";

  /**
   * The preparation of {@code container}'s host directories, with {@link
   * #HOST_DIRECTORY_FUNCTIONS}.
   */
  private static void hostDirectories(
      StringBuilder script, ContainerLaunch container, Bundle bundle) {
    if (container.hostDirectories().isEmpty()) {
      return;
    }
    script.append(HOST_DIRECTORY_FUNCTIONS);
    for (ContainerLaunch.HostDirectory directory : container.hostDirectories()) {
      String path = directory.path(CONFIG_DIR);
      script.append(line(List.of("host_dir", path))).append('\n');
      directory
          .seeds()
          .forEach(
              (source, name) ->
                  script
                      .append(
                          line(
                              List.of(
                                  "seed",
                                  ContainerLaunch.resolve(CONFIG_DIR, source),
                                  path,
                                  name,
                                  String.format("%04o", seedMode(bundle, source)))))
                      .append('\n'));
    }
  }

  /** The mode of the bundle file {@code source}; 0600 when the bundle has none of that name. */
  private static int seedMode(Bundle bundle, String source) {
    for (BundleFile file : bundle.files()) {
      if (file.path().equals(source)) {
        return file.mode();
      }
    }
    return 0600;
  }

  private static void preamble(StringBuilder script) {
    script
        .append("set -eu\n")
        .append("root=$(CDPATH= cd -- \"$(dirname -- \"$0\")/..\" && pwd -P)\n")
        .append("etc=\"$root/")
        .append(ETC)
        .append("\"\n");
  }

  /**
   * {@code "$runtime" run ...}, one option per line: a word starting with {@code -} before the
   * image begins a new line; the image and the proxy's arguments end the command.
   */
  private static String runCommand(ContainerLaunch container) {
    List<String> words = container.runArguments(CONFIG_DIR);
    int image = words.size() - container.args().size() - 1;
    StringBuilder command = new StringBuilder("\"$runtime\"");
    for (int i = 0; i < words.size(); i++) {
      String word = words.get(i);
      boolean breakBefore = i > 0 && (i == image || (i < image && word.startsWith("-")));
      command.append(breakBefore ? " \\\n  " : " ").append(word(word));
    }
    return command.toString();
  }

  /** Installs one file: copied with {@code install}, or its lines appended once. */
  private static String install(SystemdLaunch.FileInstall install) {
    String source = ContainerLaunch.resolve(CONFIG_DIR, install.source());
    if (install.append()) {
      return "while IFS= read -r line; do\n"
          + "  grep -qxF -- \"$line\" "
          + Shell.quote(install.destination())
          + " || printf '%s\\n' \"$line\" >> "
          + Shell.quote(install.destination())
          + "\ndone < "
          + word(source);
    }
    return line(
        List.of(
            "install",
            "-D",
            "-o",
            install.owner(),
            "-g",
            install.group(),
            "-m",
            String.format("%04o", install.mode()),
            source,
            install.destination()));
  }

  private static String line(List<String> words) {
    StringBuilder line = new StringBuilder();
    for (String word : words) {
      line.append(line.length() == 0 ? "" : " ").append(word(word));
    }
    return line.toString();
  }

  /** One word for the script: quoted, with the config directory as {@code "$etc"}. */
  private static String word(String word) {
    StringBuilder quoted = new StringBuilder();
    int start = 0;
    for (int at = word.indexOf(CONFIG_DIR); at >= 0; at = word.indexOf(CONFIG_DIR, start)) {
      if (at > start) {
        quoted.append(Shell.quote(word.substring(start, at)));
      }
      quoted.append(CONFIG_DIR_IN_SCRIPT);
      start = at + CONFIG_DIR.length();
    }
    if (start < word.length() || quoted.length() == 0) {
      quoted.append(Shell.quote(word.substring(start)));
    }
    return quoted.toString();
  }
}
