package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Delivers bundles to VMs over SSH: the whole bundle in one script, replacing the previous bundle
 * as a whole or not at all, exactly once per run.
 *
 * <p>The bundle travels inside the script itself: each file is written by the shell's built-in
 * {@code printf} (its bytes escaped into the quoted format, so no process starts and no content
 * appears in a command line) into a new directory ({@code 0750}), under the {@code umask} that
 * gives it its bundle mode from the start (the token {@code 0600}: never readable by others, not
 * even for a moment). The script then checks every file's size and swaps the new directory in.
 *
 * <p>Every path is hostile until checked ({@link VmPaths}): the script changes into the physical
 * path of the config directory's parent and works relative to it from then on; that parent and
 * every directory above it must belong to root or the SSH user and be writable by others only with
 * the sticky bit ({@code /tmp}); the config directory must be a directory of the SSH user that
 * others cannot write. Everything else vmonboard keeps lives in an owner-only state directory next
 * to it ({@code .BASE.vmonboard}, see {@link ConfigDir#state}), where nobody else can plant a file:
 * the new directory is built there, the replaced bundle is kept there ({@code previous}) for {@link
 * #restorePrevious} until {@link #discardPrevious} or {@link #remove}, and it lists the generations
 * of the bundles it wrote. A bundle directory counts as vmonboard's only when its marker names a
 * generation the state lists: any other non-empty directory is never replaced, restored or deleted.
 * Renames into the shared parent use {@code mv -T}, which never moves into a directory or link
 * someone planted meanwhile.
 *
 * <p>Exactly once: every attempt of one run writes the same generation (random per run) into the
 * bundle's marker. A retry after a lost connection finds the marker and reports that the earlier
 * attempt's swap happened instead of swapping again, so the kept bundle stays the one that ran
 * before the run (another run's delivery keeps the bundle it replaces, as {@link Transport} says).
 * Scripts for one directory take a lock in the state directory, so an attempt still finishing on
 * the VM and its retry never interleave.
 *
 * <p>The shell parses the whole script before it runs any of it, so a transfer cut short runs
 * nothing; on any failure while it runs, the script's exit trap deletes the new directory and puts
 * the previous one back; a later script also restores and cleans what a killed one left behind.
 *
 * <p>What the VM needs: a POSIX {@code sh} and {@code id}, {@code ls}, {@code mkdir}, {@code mv}
 * (GNU or BusyBox: {@code -T}), {@code rm}, {@code chmod} and {@code wc}. The SSH user must be able
 * to write the config directory's parent.
 *
 * <p>The connection and its one shell ({@code sh} in one exec channel) are opened through the
 * {@link SshConnector} and shared with the launcher of the same run ({@link StageContext#shared}):
 * delivery and launch are two scripts in the same channel.
 */
public final class SshTransport implements Transport {

  private static final String MARKER = ConfigDir.MARKER;
  private static final String MARKER_TEXT =
      "This directory is written and deleted by vmonboard; do not keep other files here.\n";
  private static final Duration DELIVERY_LIMIT = Duration.ofMinutes(5);

  /** What {@link VmSession#keptAside} notes for the bundle a delivery replaced. */
  private static final String KEPT_BUNDLE = "bundle";

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
    VmSession session = VmSession.of(connector, target, context);
    String generation = session.generation(bundle);
    List<BundleFile> files = new ArrayList<>(bundle.files());
    files.add(
        BundleFile.of(
            MARKER, 0644, (generation + "\n" + MARKER_TEXT).getBytes(StandardCharsets.US_ASCII)));
    RemoteScript script =
        guarded(dir)
            .set("gen", generation)
            .lines(
                "if [ -e \"./$base\" ]; then",
                "  if recorded \"./$base\"; then",
                "    if [ \"$g\" = \"$gen\" ]; then",
                // An earlier attempt of this run swapped it in: nothing to do, the kept copy stays.
                "      if [ -d \"./$vstate/previous\" ]; then say already kept; else say already; fi",
                "      exit 0",
                "    fi",
                "  elif [ -n \"$(ls -A -- \"./$base\")\" ]; then",
                "    fail 20 \"$dir holds files vmonboard did not record as its own; refusing to"
                    + " replace it\"",
                "  fi",
                "fi");
    appendWrites(script, "new", files, "0750");
    appendChecks(script, "new", files);
    script.lines(
        "printf '%s\\n' \"$gen\" >> \"./$vstate/gens\" || fail 21 'cannot record the generation'",
        "if [ -e \"./$base\" ]; then",
        "  mv -- \"./$base\" \"./$vstate/old\" || fail 25 'cannot move the previous bundle aside'",
        "fi",
        "mv -T -- \"./$vstate/new\" \"./$base\" || fail 25 'cannot move the new bundle into place'",
        "said=delivered",
        "if [ -d \"./$vstate/old\" ]; then",
        // The bundle just replaced is kept for a rollback, instead of an older one.
        "  if [ -e \"./$vstate/previous\" ]; then rm -rf -- \"./$vstate/previous\"; fi",
        "  mv -- \"./$vstate/old\" \"./$vstate/previous\" && said='delivered kept'",
        "fi",
        // Only the generations still on the VM stay listed.
        "{ printf '%s\\n' \"$gen\"; if [ -f \"./$vstate/previous/" + MARKER + "\" ]; then",
        "  read -r k < \"./$vstate/previous/" + MARKER + "\" && printf '%s\\n' \"$k\"; fi",
        "} > \"./$vstate/gens.new\" && mv -f -- \"./$vstate/gens.new\" \"./$vstate/gens\"",
        "say \"$said\"");
    String said;
    try {
      said =
          run(
              "deliver the bundle",
              script,
              target,
              context,
              "delivered",
              "delivered kept",
              "already",
              "already kept");
    } catch (StageException e) {
      if (!e.isTransient() || e.getCause() == null) {
        throw e;
      }
      // No answer: the script may have run to the end. Say what the VM holds, and how to know.
      throw new StageException(
          e.getMessage()
              + "; "
              + dir.path()
              + " holds either the bundle it held before or this run's (generation "
              + generation
              + "), never a mix, and the bundle it held before stays kept",
          "run again: a retry of this run finds out whether the swap happened and never swaps"
              + " twice",
          true,
          e.getCause());
    }
    if (said.startsWith("already")) {
      context.progress(
          "an earlier attempt of this run already delivered the bundle to "
              + dir.path()
              + (said.endsWith("kept") ? "; the previous bundle stays kept" : ""));
    }
    // A first delivery keeps nothing: the run's discard (or restore) then costs no round trip.
    session.keptAside(KEPT_BUNDLE, said.contains("kept"));
  }

  /**
   * Puts back the bundle that the last {@link #deliver} replaced, kept in the state directory: the
   * failed bundle is moved aside, the kept one renamed into place, then the failed one deleted; on
   * any failure the exit trap puts the failed one back, so the directory always holds one whole
   * bundle. Modes are those of the delivery (the token {@code 0600}, the directory {@code 0750}).
   * Only a bundle kept in the state directory is ever restored: a directory planted anywhere else
   * is never adopted.
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
        guarded(ConfigDir.of(target, context))
            .lines(
                "[ -d \"./$vstate/previous\" ] || { say none; exit 0; }",
                "if [ -e \"./$base\" ]; then",
                "  recorded \"./$base\" || [ -z \"$(ls -A -- \"./$base\")\" ] || fail 20 \"$dir holds"
                    + " files vmonboard did not record as its own; refusing to replace it\"",
                "  mv -- \"./$base\" \"./$vstate/old\" || fail 25 'cannot move the failed bundle aside'",
                "fi",
                "mv -T -- \"./$vstate/previous\" \"./$base\" || fail 25 'cannot move the previous"
                    + " bundle into place'",
                "say restored");
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
        guarded(ConfigDir.of(target, context))
            .lines(
                "if [ -e \"./$vstate/previous\" ]; then",
                "  rm -rf -- \"./$vstate/previous\" || fail 26 \"cannot delete the kept bundle\"",
                "fi",
                "say discarded");
    run("drop the previous bundle", script, target, context, "discarded");
    session.releasedAside(KEPT_BUNDLE);
  }

  /**
   * A script that enters the config directory's parent and checks it ({@link ConfigDir#script}),
   * creates the state directory if missing, takes its lock, sets an exit trap that puts back a
   * bundle set aside in {@code $vstate/old} when {@code $base} is missing and deletes what is left
   * of the script's own work, then cleans what a killed script left.
   */
  private static RemoteScript guarded(ConfigDir dir) {
    return dir.script()
        .lines(
            "cleanup() {",
            "  [ -n \"$top\" ] && cd -P -- \"$top\" 2>/dev/null || return",
            "  if [ ! -e \"./$base\" ] && [ ! -L \"./$base\" ] && [ -d \"./$vstate/old\" ]; then",
            "    mv -- \"./$vstate/old\" \"./$base\"",
            "  fi",
            "  for o in new old tok gens.new; do",
            "    if [ -e \"./$vstate/$o\" ]; then rm -rf -- \"./$vstate/$o\"; fi",
            "  done",
            "  unlock",
            "}",
            "top=''",
            "trap cleanup EXIT",
            "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143'"
                + " TERM",
            "enter",
            "[ -d \"./$vstate\" ] || mkdir -m 0700 -- \"./$vstate\" || fail 21 \"cannot create"
                + " $parent/$vstate\"",
            "lock",
            "restore_and_clean");
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
        guarded(dir)
            .lines(
                "recorded \"./$base\" || fail 27 \"there is no bundle of vmonboard in $dir to"
                    + " refresh\"");
    for (String parent : parents(files)) {
      script.lines(
          "[ -d \"./$base\"/"
              + Shell.quote(parent)
              + " ] && [ ! -L \"./$base\"/"
              + Shell.quote(parent)
              + " ] || fail 27 \"the bundle in $dir has no \""
              + Shell.quote(parent)
              + "\"/ for the token: it was delivered in an older layout\"");
    }
    appendWrites(script, "tok", files, "0700");
    appendChecks(script, "tok", files);
    for (BundleFile file : files) {
      String path = Shell.quote(file.path());
      script.lines(
          "mv -f -T -- \"./$vstate/tok\"/"
              + path
              + " \"./$base\"/"
              + path
              + " || fail 25 'cannot replace '"
              + path);
    }
    script.lines("say delivered");
    run("deliver the token", script, target, context, "delivered");
  }

  /**
   * Deletes the bundle and the state directory (with the kept bundle and the launchers' records).
   * Without a state directory nothing was recorded: a directory found there is left as it is (the
   * script fails, saying so) unless it is empty.
   */
  @Override
  public void remove(Target target, StageContext context) {
    ConfigDir dir = ConfigDir.of(target, context);
    RemoteScript script =
        dir.script()
            .lines(
                "enter",
                "if [ ! -d \"./$vstate\" ]; then",
                "  if [ -L \"./$base\" ] || { [ -e \"./$base\" ] && [ -n \"$(ls -A -- \"./$base\")\" ]; };"
                    + " then",
                "    fail 20 \"left $dir as it is: vmonboard has no record of writing it\"",
                "  fi",
                "  if [ -e \"./$base\" ]; then rmdir -- \"./$base\" || fail 26 \"cannot delete $dir\"; fi",
                "  say removed; exit 0",
                "fi",
                "trap unlock EXIT",
                "lock",
                "restore_and_clean",
                "if [ -e \"./$base\" ]; then",
                "  recorded \"./$base\" || [ -z \"$(ls -A -- \"./$base\")\" ] || fail 20 \"left $dir as it"
                    + " is: it holds files vmonboard did not record as its own\"",
                "  rm -rf -- \"./$base\" || fail 26 \"cannot delete $dir\"",
                "fi",
                "locked=''",
                "rm -rf -- \"./$vstate\" || fail 26 \"cannot delete $parent/$vstate\"",
                "say removed");
    run("remove the bundle", script, target, context, "removed");
  }

  @Override
  public List<String> describeDelivery(Bundle bundle, Target target) {
    List<String> lines = new ArrayList<>();
    lines.add(
        VmSession.plan(
            target,
            "check "
                + target.configDir()
                + " and every directory above it, write "
                + bundle.files().size()
                + " files into a new directory in vmonboard's owner-only state directory next to"
                + " it with the shell's printf (modes set as created), check sizes, then swap it"
                + " in once per run, keeping the replaced bundle until the proxy is ready (the"
                + " run's one exec channel):"));
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
   * Appends the creation of {@code $vstate/KIND} ({@code dirMode}) with the files' sub-directories,
   * then one built-in {@code printf} per file, under the {@code umask} that gives the file its mode
   * from the start (a secret is never readable by others, not even for a moment).
   */
  private static void appendWrites(
      RemoteScript script, String kind, List<BundleFile> files, String dirMode) {
    String tmp = "\"./$vstate/" + kind + "\"";
    StringBuilder mkdir = new StringBuilder("mkdir -m " + dirMode + " -- " + tmp);
    for (String parent : parents(files)) {
      mkdir.append(' ').append(tmp).append('/').append(Shell.quote(parent));
    }
    script.lines(mkdir + " || fail 21 \"cannot write in $parent/$vstate\"");
    String umask = null;
    for (BundleFile file : files) {
      String wanted = String.format("%04o", ~mode(file) & 0777);
      if (!wanted.equals(umask)) {
        script.lines("umask " + wanted);
        umask = wanted;
      }
      script.writeFile(
          tmp + "/" + Shell.quote(file.path()), file.content(), 21, file.path() + " in $vstate");
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
   * Appends the check of the written files in {@code $vstate/KIND}: every size at once with one
   * {@code wc -c}, then a {@code chmod} only for files whose mode creation under a {@code umask}
   * cannot give (execute, set-id or sticky bits).
   */
  private static void appendChecks(RemoteScript script, String kind, List<BundleFile> files) {
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
        "cd -- \"./$vstate/" + kind + "\" || fail 21 \"cannot enter $vstate/" + kind + "\"",
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
    script.lines("cd ../..");
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
        hint =
            "choose a proxy-config-dir that vmonboard owns (a new or empty directory) below"
                + " directories only root or "
                + target.user().orElse("the SSH user")
                + " can change, or remove what the message names";
        break;
      case 29:
        hint = "another run is working on " + target.configDir() + "; run again when it ends";
        transientFailure = true;
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
        hint = "check that the VM has a POSIX sh, id, ls, mkdir, mv (with -T), rm, chmod and wc";
    }
    throw session.failure(what, result, context, transientFailure, hint);
  }

  @Override
  public String toString() {
    return "SshTransport[" + connector + "]";
  }
}
