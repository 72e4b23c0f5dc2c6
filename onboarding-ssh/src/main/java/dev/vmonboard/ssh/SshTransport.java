package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
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

/**
 * Delivers bundles to VMs over SSH: the whole bundle in one script, replacing the previous bundle
 * as a whole or not at all.
 *
 * <p>The bundle travels inside the script itself: each file is written by the shell's built-in
 * {@code printf} (its bytes escaped into the quoted format, so no process starts and no content
 * appears in a command line) into a new directory ({@code 0750}) next to the config directory,
 * under the {@code umask} that gives it its bundle mode from the start (the token {@code 0600}:
 * never readable by others, not even for a moment). The script then checks every file's size, moves
 * the previous directory aside and the new one into place, and keeps the previous one next to it
 * ({@code .BASE.vmonboard-previous}, modes unchanged) for {@link #restorePrevious}, until {@link
 * #discardPrevious}, the next delivery (which keeps the bundle it replaces instead) or {@link
 * #remove}. The shell parses the whole script before it runs any of it, so a transfer cut short
 * runs nothing; on any failure while it runs, the script's exit trap deletes the new directory and
 * puts the previous one back; a later delivery also restores and cleans what a killed one left
 * behind. The directory gets a {@code .vmonboard} marker file: an existing non-empty directory
 * without it is never replaced or deleted.
 *
 * <p>What the VM needs: a POSIX {@code sh} and the POSIX tools {@code mkdir}, {@code mv}, {@code
 * rm}, {@code chmod}, {@code ls} and {@code wc}. The SSH user must be able to write the config
 * directory's parent.
 *
 * <p>The connection and its one shell ({@code sh} in one exec channel) are opened through the
 * {@link SshConnector} and shared with the launcher of the same run ({@link StageContext#shared}):
 * delivery and launch are two scripts in the same channel.
 */
public final class SshTransport implements Transport {

  private static final String MARKER = ConfigDir.MARKER;
  private static final byte[] MARKER_CONTENT =
      "This directory is written and deleted by vmonboard; do not keep other files here.\n"
          .getBytes(StandardCharsets.US_ASCII);
  private static final Duration DELIVERY_LIMIT = Duration.ofMinutes(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What {@link VmSession#keptAside} notes for the bundle a delivery replaced. */
  private static final String KEPT_BUNDLE = "bundle";

  private static final String DELIVERED_KEPT = "delivered kept";

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
    RemoteScript script =
        swapping(dir)
            .lines(
                "[ -d \"$parent\" ] || mkdir -p -- \"$parent\" || fail 21 \"cannot create $parent\"");
    appendWrites(script, files, "0750");
    appendChecks(script, files);
    appendSwapIn(script, "$tmp", "previous bundle", "new bundle");
    // The bundle just replaced is kept for a rollback, instead of an older one; should a stale
    // copy resist deletion, the replaced bundle is dropped rather than put in it.
    script.lines(
        // Usually there is none (a first delivery, or one whose run dropped it): no rm then.
        "if [ -e \"$prev\" ] || [ -L \"$prev\" ]; then rm -rf -- \"$prev\" 2>/dev/null; fi",
        "if [ -e \"$prev\" ]; then rm -rf -- \"$old\"; elif [ -d \"$old\" ]; then mv -- \"$old\""
            + " \"$prev\"; fi",
        "if [ -e \"$prev\" ]; then say delivered kept; else say delivered; fi");
    String said = run("deliver the bundle", script, target, context, "delivered", DELIVERED_KEPT);
    // A first delivery keeps nothing: the run's discard (or restore) then costs no round trip.
    VmSession.of(connector, target, context).keptAside(KEPT_BUNDLE, said.equals(DELIVERED_KEPT));
  }

  /**
   * Puts back the bundle that the last {@link #deliver} replaced, kept next to the config directory
   * ({@code .BASE.vmonboard-previous}): the failed bundle is moved aside, the kept one renamed into
   * place, then the failed one deleted; on any failure the exit trap puts the failed one back, so
   * the directory always holds one whole bundle. Modes are those of the delivery (the token {@code
   * 0600}, the directory {@code 0750}).
   *
   * @return false when no bundle was kept (a first delivery, or already restored or discarded)
   */
  @Override
  public boolean restorePrevious(Target target, StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    if (session.nothingKeptAside(KEPT_BUNDLE)) {
      return false;
    }
    RemoteScript script =
        swapping(ConfigDir.of(target, context))
            .lines("[ -f \"$prev/" + MARKER + "\" ] || { say none; exit 0; }");
    appendSwapIn(script, "$prev", "failed bundle", "previous bundle");
    script.lines("say restored");
    boolean restored =
        run("restore the previous bundle", script, target, context, "restored", "none")
            .equals("restored");
    session.releasedAside(KEPT_BUNDLE);
    return restored;
  }

  /** Deletes the bundle kept for {@link #restorePrevious}; none kept is fine. */
  @Override
  public void discardPrevious(Target target, StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    if (session.nothingKeptAside(KEPT_BUNDLE)) {
      return;
    }
    RemoteScript script =
        ConfigDir.of(target, context)
            .script()
            .lines("rm -rf -- \"$prev\" || fail 26 \"cannot delete $prev\"", "say discarded");
    run("drop the previous bundle", script, target, context, "discarded");
    session.releasedAside(KEPT_BUNDLE);
  }

  /**
   * A script that swaps a directory into {@code $dir}: {@code $tmp} (a new sibling to write) and
   * {@code $old} (where the bundle in place goes aside) set; an exit trap that deletes {@code
   * $tmp}, puts {@code $old} back when {@code $dir} is missing and deletes what is left of {@code
   * $old}; then the clean-up of what a killed script left behind and the refusal of a foreign
   * directory.
   */
  private static RemoteScript swapping(ConfigDir dir) {
    return dir.script()
        .set("tmp", dir.litter("new-" + suffix()))
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
            "restore_and_clean",
            "refuse_foreign");
  }

  /**
   * Appends the swap: the bundle in {@code $dir} (the {@code replaced} one), if any, moved aside to
   * {@code $old}, then {@code source} (a script variable such as {@code $tmp}) renamed into place.
   */
  private static void appendSwapIn(
      RemoteScript script, String source, String replaced, String incoming) {
    script.lines(
        "if [ -e \"$dir\" ]; then",
        "  mv -- \"$dir\" \"$old\" || fail 25 'cannot move the " + replaced + " aside'",
        "fi",
        "mv -- \""
            + source
            + "\" \"$dir\" || fail 25 'cannot move the "
            + incoming
            + " into place'");
  }

  /**
   * Replaces only the token and the bootstrap record, each by an atomic rename into its place in
   * the config directory (the token's sub-directory included), so that a running proxy reads the
   * new token without a restart.
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
                "[ -f \"$dir/"
                    + MARKER
                    + "\" ] || fail 27 \"there is no bundle in $dir to refresh\"");
    for (String parent : parents(files)) {
      script.lines(
          "[ -d \"$dir\"/"
              + Shell.quote(parent)
              + " ] || fail 27 \"the bundle in $dir has no \""
              + Shell.quote(parent)
              + "\"/ for the token: it was delivered in an older layout\"");
    }
    appendWrites(script, files, "0700");
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
    script.lines("say delivered");
    run("deliver the token", script, target, context, "delivered");
  }

  @Override
  public void remove(Target target, StageContext context) {
    ConfigDir dir = ConfigDir.of(target, context);
    RemoteScript script =
        dir.script()
            .lines(
                "restore_and_clean",
                "rm -rf -- \"$prev\" || fail 26 \"cannot delete $prev\"",
                "if [ ! -e \"$dir\" ] && [ ! -L \"$dir\" ]; then say removed; exit 0; fi",
                "refuse_foreign",
                "rm -rf -- \"$dir\" || fail 26 \"cannot delete $dir\"",
                "rm -rf -- \"$litter\"old-*",
                "say removed");
    run("remove the bundle", script, target, context, "removed");
  }

  @Override
  public List<String> describeDelivery(Bundle bundle, Target target) {
    List<String> lines = new ArrayList<>();
    lines.add(
        VmSession.plan(
            target,
            "write "
                + bundle.files().size()
                + " files into a new directory next to "
                + target.configDir()
                + " with the shell's printf (modes set as created), check sizes, then swap it in,"
                + " keeping the replaced bundle until the proxy is ready (the run's one exec"
                + " channel):"));
    for (String file : bundle.manifest()) {
      lines.add("  " + file);
    }
    return lines;
  }

  @Override
  public List<String> describeRemoval(Target target) {
    return List.of(
        VmSession.plan(target, "delete " + target.configDir() + " (only if vmonboard wrote it)"));
  }

  /**
   * Appends the creation of {@code $tmp} ({@code dirMode}) with the files' sub-directories, then
   * one built-in {@code printf} per file, under the {@code umask} that gives the file its mode from
   * the start (a secret is never readable by others, not even for a moment).
   */
  private static void appendWrites(RemoteScript script, List<BundleFile> files, String dirMode) {
    StringBuilder mkdir = new StringBuilder("mkdir -m " + dirMode + " -- \"$tmp\"");
    for (String parent : parents(files)) {
      mkdir.append(" \"$tmp\"/").append(Shell.quote(parent));
    }
    script.lines(mkdir + " || fail 21 \"cannot write in $parent\"");
    String umask = null;
    for (BundleFile file : files) {
      String wanted = String.format("%04o", ~mode(file) & 0777);
      if (!wanted.equals(umask)) {
        script.lines("umask " + wanted);
        umask = wanted;
      }
      script.writeFile(
          "\"$tmp\"/" + Shell.quote(file.path()), file.content(), 21, file.path() + " in $tmp");
    }
  }

  /** The sub-directories the files are in, parents before children. */
  private static List<String> parents(List<BundleFile> files) {
    TreeSet<String> dirs = new TreeSet<>();
    for (BundleFile file : files) {
      for (int i = file.path().indexOf('/'); i > 0; i = file.path().indexOf('/', i + 1)) {
        dirs.add(file.path().substring(0, i));
      }
    }
    return new ArrayList<>(dirs);
  }

  /**
   * Appends the check of the written files in {@code $tmp}: every size at once with one {@code wc
   * -c}, then a {@code chmod} only for files whose mode creation under a {@code umask} cannot give
   * (execute, set-id or sticky bits).
   */
  private static void appendChecks(RemoteScript script, List<BundleFile> files) {
    List<String> expected = new ArrayList<>();
    List<String> names = new ArrayList<>();
    Map<String, List<String>> chmods = new TreeMap<>();
    for (BundleFile file : files) {
      names.add(Shell.quote(file.path()));
      expected.add(Shell.quote(file.path() + "=" + file.size()));
      if ((mode(file) & 07111) != 0) {
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
   * Runs {@code script} in the run's shared shell and returns its result, one of {@code markers};
   * anything else, or an exit code other than 0, is a failure with a hint for its exit code.
   */
  private String run(
      String what, RemoteScript script, Target target, StageContext context, String... markers) {
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result = session.run(what, script, DELIVERY_LIMIT, context);
    String said = result.stdoutText().strip();
    if (result.exitCode() == 0 && List.of(markers).contains(said)) {
      return said;
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
      case RemoteScript.DISK_FULL:
        hint =
            "free space on the file system that holds "
                + target.configDir()
                + " (df -h shows it), then run again";
        break;
      default:
        hint = "check that the VM has a POSIX sh, mkdir, mv, rm, chmod and wc";
    }
    throw session.failure(what, result, context, transientFailure, hint);
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
}
