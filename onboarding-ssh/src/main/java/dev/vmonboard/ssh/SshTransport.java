package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Delivers bundles to VMs over SSH: the whole bundle in one exec channel, replacing the previous
 * bundle as a whole or not at all.
 *
 * <p>The bundle travels as a tar stream on the standard input of one {@code sh -c} script, which
 * unpacks it into a new directory ({@code 0750}) next to the config directory, each file created
 * with its bundle mode (the token {@code 0600} from the start: never readable by others, not even
 * for a moment), checks every file's size, then moves the previous directory aside and the new one
 * into place, and deletes the previous one. On any failure, a dropped connection included, the
 * script's exit trap deletes the new directory and puts the previous one back; a later delivery
 * also restores and cleans what a killed one left behind. The directory gets a {@code .vmonboard}
 * marker file: an existing non-empty directory without it is never replaced or deleted.
 *
 * <p>What the VM needs: a POSIX {@code sh}, {@code tar} that reads a ustar stream from standard
 * input ({@code tar -xof -}: GNU, BSD and BusyBox tar do), and the POSIX tools {@code mkdir},
 * {@code mv}, {@code rm}, {@code chmod}, {@code ls} and {@code wc}. The SSH user must be able to
 * write the config directory's parent.
 *
 * <p>The connection is opened through the {@link SshConnector} and shared with the launcher of the
 * same run ({@link StageContext#shared}).
 */
public final class SshTransport implements Transport {

  private static final String MARKER = ".vmonboard";
  private static final byte[] MARKER_CONTENT =
      "This directory is written and deleted by vmonboard; do not keep other files here.\n"
          .getBytes(StandardCharsets.US_ASCII);
  private static final Duration DELIVERY_LIMIT = Duration.ofMinutes(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SshConnector connector;

  private SshTransport(SshConnector connector) {
    this.connector = Objects.requireNonNull(connector, "connector");
  }

  /** A transport that connects to VMs with {@code connector}. */
  public static SshTransport using(SshConnector connector) {
    return new SshTransport(connector);
  }

  @Override
  public void deliver(Bundle bundle, Target target, StageContext context) {
    ConfigDir dir = ConfigDir.of(target, context);
    List<BundleFile> files = new ArrayList<>(bundle.files());
    files.add(BundleFile.of(MARKER, 0644, MARKER_CONTENT));
    String tmp = dir.litter("new-" + suffix());
    RemoteScript script =
        dir.script()
            .set("tmp", tmp)
            .set("old", dir.litter("old-" + suffix()))
            .lines(
                "cleanup() {",
                "  if [ -e \"$tmp\" ]; then rm -rf -- \"$tmp\"; fi",
                "  if [ ! -e \"$dir\" ] && [ -d \"$old\" ]; then mv -- \"$old\" \"$dir\"; fi",
                "  if [ -e \"$old\" ]; then rm -rf -- \"$old\"; fi",
                "}",
                "trap cleanup EXIT",
                "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143'"
                    + " TERM",
                "umask 022",
                "restore_and_clean",
                "refuse_foreign",
                "[ -d \"$parent\" ] || mkdir -p -- \"$parent\" || fail 21 \"cannot create $parent\"",
                "mkdir -m 0750 -- \"$tmp\" || fail 21 \"cannot write in $parent\"",
                "tar -xof - -C \"$tmp\" || fail 22 'the bundle did not arrive whole'");
    appendChecks(script, files);
    script.lines(
        "if [ -e \"$dir\" ]; then",
        "  mv -- \"$dir\" \"$old\" || fail 25 'cannot move the previous bundle aside'",
        "fi",
        "mv -- \"$tmp\" \"$dir\" || fail 25 'cannot move the new bundle into place'",
        "echo delivered");
    run("deliver the bundle", script, tar(files), "delivered", target, context);
  }

  /**
   * Replaces only the token and the bootstrap record, each by an atomic rename inside the config
   * directory, so that a running proxy reads the new token without a restart.
   */
  @Override
  public void deliverToken(Bundle bundle, Target target, StageContext context) {
    ConfigDir dir = ConfigDir.of(target, context);
    List<BundleFile> files = new ArrayList<>();
    bundle.file(bundle.tokenPath()).ifPresent(files::add);
    bundle.recordFile().ifPresent(files::add);
    if (files.isEmpty()) {
      throw StageException.permanent(
          "the bundle of " + context.workload() + " has no token to deliver",
          "issue a token before delivering it");
    }
    RemoteScript script =
        dir.script()
            .set("tmp", dir.litter("tok-" + suffix()))
            .lines(
                "trap 'rm -rf -- \"$tmp\"' EXIT",
                "trap 'exit 129' HUP; trap 'exit 143' TERM; trap 'exit 141' PIPE",
                "umask 022",
                "[ -f \"$dir/"
                    + MARKER
                    + "\" ] || fail 27 \"there is no bundle in $dir to refresh\"",
                "mkdir -m 0700 -- \"$tmp\" || fail 21 \"cannot write in $parent\"",
                "tar -xof - -C \"$tmp\" || fail 22 'the token did not arrive whole'");
    appendChecks(script, files);
    for (BundleFile file : files) {
      String path = Shell.quote(file.path());
      script.lines(
          "mv -f -- \"$tmp\"/"
              + path
              + " \"$dir\"/"
              + path
              + " || fail 25 'cannot replace '"
              + path);
    }
    script.lines("echo delivered");
    run("deliver the token", script, tar(files), "delivered", target, context);
  }

  @Override
  public void remove(Target target, StageContext context) {
    ConfigDir dir = ConfigDir.of(target, context);
    RemoteScript script =
        dir.script()
            .lines(
                "restore_and_clean",
                "if [ ! -e \"$dir\" ] && [ ! -L \"$dir\" ]; then echo removed; exit 0; fi",
                "refuse_foreign",
                "rm -rf -- \"$dir\" || fail 26 \"cannot delete $dir\"",
                "rm -rf -- \"$litter\"old-*",
                "echo removed");
    run("remove the bundle", script, new byte[0], "removed", target, context);
  }

  @Override
  public List<String> describeDelivery(Bundle bundle, Target target) {
    List<String> lines = new ArrayList<>();
    lines.add(
        "ssh "
            + target.user().map(u -> u + "@").orElse("")
            + target.host()
            + ":"
            + target.port()
            + ": one exec channel: unpack a tar stream of "
            + bundle.files().size()
            + " files into a new directory next to "
            + target.configDir()
            + ", check sizes, apply modes, then swap it in:");
    for (String file : bundle.manifest()) {
      lines.add("  " + file);
    }
    return lines;
  }

  @Override
  public List<String> describeRemoval(Target target) {
    return List.of(
        "ssh "
            + target.host()
            + ":"
            + target.port()
            + ": delete "
            + target.configDir()
            + " (only if vmonboard wrote it)");
  }

  /**
   * Appends the check of the unpacked files in {@code $tmp}: every size at once with one {@code wc
   * -c}, then a {@code chmod} only for files whose mode the extraction's {@code umask 022} cannot
   * give (group or other write bits); every other mode comes from the tar entry itself.
   */
  private static void appendChecks(RemoteScript script, List<BundleFile> files) {
    List<String> expected = new ArrayList<>();
    List<String> names = new ArrayList<>();
    Map<String, List<String>> chmods = new TreeMap<>();
    for (BundleFile file : files) {
      names.add(Shell.quote(file.path()));
      expected.add(Shell.quote(file.path() + "=" + file.size()));
      if ((mode(file) & 0022) != 0) {
        chmods
            .computeIfAbsent(String.format("%04o", mode(file)), m -> new ArrayList<>())
            .add(Shell.quote(file.path()));
      }
    }
    script.lines(
        "cd -- \"$tmp\" || fail 21 \"cannot enter $tmp\"",
        "sizes=$(wc -c -- " + String.join(" ", names) + ") || fail 23 'files are missing'",
        "ok=0",
        "while read -r n f; do",
        "  case \"$f=$n\" in",
        "    " + String.join("|", expected) + ") ok=$((ok + 1)) ;;",
        "    total=*) ;;",
        "    *) fail 23 \"$f arrived with $n bytes, not as sent\" ;;",
        "  esac",
        "done <<EOF",
        "$sizes",
        "EOF",
        "[ \"$ok\" -eq " + files.size() + " ] || fail 23 'files are missing from the bundle'");
    for (Map.Entry<String, List<String>> mode : chmods.entrySet()) {
      script.lines(
          "chmod "
              + mode.getKey()
              + " -- "
              + String.join(" ", mode.getValue())
              + " || fail 24 'cannot set mode "
              + mode.getKey()
              + "'");
    }
    script.lines("cd /");
  }

  /** The mode a file gets on the VM: the bundle's, never group or other bits for a secret. */
  private static int mode(BundleFile file) {
    return file.secret() ? file.mode() & 0700 : file.mode();
  }

  /**
   * Runs {@code script} on the run's shared session with {@code stdin}; anything but exit code 0
   * and {@code marker} on stdout is a failure with a hint for its exit code.
   */
  private void run(
      String what,
      RemoteScript script,
      byte[] stdin,
      String marker,
      Target target,
      StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result = session.run(what, script, stdin, DELIVERY_LIMIT, context);
    if (result.exitCode() == 0 && result.stdoutText().strip().equals(marker)) {
      return;
    }
    String hint;
    boolean transientFailure = false;
    switch (result.exitCode()) {
      case 20:
        hint = "choose a proxy-config-dir that vmonboard owns: a new or empty directory";
        break;
      case 21:
      case 24:
      case 25:
      case 26:
        hint =
            "check that "
                + target.user().orElse("the SSH user")
                + " may write "
                + target.configDir()
                + " and its parent, or choose another proxy-config-dir";
        break;
      case 22:
      case 23:
        hint = "the transfer was damaged or cut; run again";
        transientFailure = true;
        break;
      case 27:
        hint = "onboard the VM (deliver the whole bundle) first";
        break;
      default:
        hint = "check that the VM has a POSIX sh, tar, mkdir, mv, rm, chmod and wc";
    }
    throw session.failure(what, result, context, transientFailure, hint);
  }

  private static byte[] tar(List<BundleFile> files) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      TreeSet<String> dirs = new TreeSet<>();
      for (BundleFile file : files) {
        for (int i = file.path().indexOf('/'); i > 0; i = file.path().indexOf('/', i + 1)) {
          if (dirs.add(file.path().substring(0, i))) {
            TarArchiveEntry dir = new TarArchiveEntry(file.path().substring(0, i + 1));
            dir.setMode(040750);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
          }
        }
        TarArchiveEntry entry = new TarArchiveEntry(file.path());
        entry.setSize(file.size());
        entry.setMode(0100000 | mode(file));
        tar.putArchiveEntry(entry);
        tar.write(file.content());
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a tar stream in memory", e);
    }
    return bytes.toByteArray();
  }

  private static String suffix() {
    byte[] random = new byte[6];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  @Override
  public String toString() {
    return "SshTransport[" + connector + "]";
  }

  /** A validated config directory and the names of its temporary siblings. */
  private record ConfigDir(String path, String parent, String base) {

    static ConfigDir of(Target target, StageContext context) {
      String dir = target.configDir();
      String problem = null;
      if (!dir.startsWith("/")) {
        problem = "must be an absolute path";
      } else if (dir.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        problem = "must not contain control characters such as a newline";
      } else {
        String trimmed = dir.replaceAll("/+$", "");
        if (trimmed.isEmpty()) {
          problem = "must not be the root directory";
        } else {
          for (String segment : trimmed.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
              problem = "must be a normalised path (no empty, '.' or '..' segments)";
            }
          }
        }
        if (problem == null) {
          int slash = trimmed.lastIndexOf('/');
          return new ConfigDir(
              trimmed,
              slash == 0 ? "/" : trimmed.substring(0, slash),
              trimmed.substring(slash + 1));
        }
      }
      throw StageException.permanent(
          "the config directory of "
              + context.workload()
              + " on "
              + target.host()
              + " "
              + problem
              + ": '"
              + RemoteScript.printable(dir)
              + "'",
          "fix the proxy-config-dir annotation or the default config directory");
    }

    /** A temporary sibling: {@code PARENT/.BASE.vmonboard-KIND}. */
    String litter(String kind) {
      return prefix() + kind;
    }

    private String prefix() {
      return (parent.equals("/") ? "/" : parent + "/") + "." + base + ".vmonboard-";
    }

    /**
     * A script with {@code dir}, {@code parent} and {@code litter} set, and two functions: {@code
     * restore_and_clean} (puts back a previous bundle a killed delivery left aside, deletes the
     * rest of its litter) and {@code refuse_foreign} (fails unless the directory is absent, empty
     * or marked as vmonboard's).
     */
    RemoteScript script() {
      return new RemoteScript()
          .set("dir", path)
          .set("parent", parent)
          .set("litter", prefix())
          .lines(
              "restore_and_clean() {",
              "  if [ ! -e \"$dir\" ]; then",
              "    for o in \"$litter\"old-*; do",
              "      if [ -f \"$o/" + MARKER + "\" ]; then mv -- \"$o\" \"$dir\" && break; fi",
              "    done",
              "  fi",
              "  for o in \"$litter\"new-* \"$litter\"old-* \"$litter\"tok-*; do",
              "    if [ -e \"$o\" ]; then rm -rf -- \"$o\"; fi",
              "  done",
              "}",
              "refuse_foreign() {",
              "  if [ -e \"$dir\" ] || [ -L \"$dir\" ]; then",
              "    [ -d \"$dir\" ] && [ ! -L \"$dir\" ] || fail 20 \"$dir is not a directory\"",
              "    if [ ! -f \"$dir/" + MARKER + "\" ] && [ -n \"$(ls -A -- \"$dir\")\" ]; then",
              "      fail 20 \"$dir holds files vmonboard did not write; refusing to replace it\"",
              "    fi",
              "  fi",
              "}");
    }
  }
}
