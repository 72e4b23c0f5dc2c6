package dev.vmonboard.ssh;

import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.internal.Names;

/**
 * A target's config directory, validated (absolute, normalised, no control characters), with the
 * name of vmonboard's state directory next to it. The transport and the container launcher read the
 * target's directory only through it, and work relative to its parent.
 */
record ConfigDir(String path, String parent, String base) {

  /** The marker file of a directory vmonboard wrote. */
  static final String MARKER = ".vmonboard";

  /**
   * {@code dir} without trailing slashes, unchecked: for plans, which describe what a run would do
   * and leave the refusal to the run.
   */
  static String trimmed(String dir) {
    String trimmed = dir.replaceAll("/+$", "");
    return trimmed.isEmpty() ? "/" : trimmed;
  }

  /**
   * The validated config directory of {@code target}.
   *
   * @throws StageException (permanent) naming the workload when the directory is not absolute and
   *     normalised, or holds a control character
   */
  static ConfigDir of(Target target, StageContext context) {
    String dir = target.configDir();
    String problem = null;
    if (!dir.startsWith("/")) {
      problem = "must be an absolute path";
    } else if (Names.hasForbidden(dir)) {
      problem = "must not contain control characters or format characters such as a newline";
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
            trimmed, slash == 0 ? "/" : trimmed.substring(0, slash), trimmed.substring(slash + 1));
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

  /**
   * The name of the state directory next to the config directory ({@code .BASE.vmonboard}, in
   * scripts {@code $vstate}): owner-only, made by the first delivery, deleted by the transport's
   * {@code remove}. Only the run's user can write it, so what it holds is vmonboard's by
   * construction: the bundle kept for a rollback ({@code previous}), the directories a delivery
   * builds ({@code new}, {@code tok}) and sets aside ({@code old}), the generations of the bundles
   * it wrote ({@code gens}), the launchers' records and the lock ({@code lock}) that makes two
   * scripts for one directory run one after the other.
   */
  String state() {
    return "." + base + ".vmonboard";
  }

  /**
   * A script that works in the config directory's parent: {@code dir}, {@code parent}, {@code base}
   * and {@code state} set, the {@link VmPaths} functions, and {@code enter} (creates the parent if
   * missing, changes into its physical path, so that every later name is relative to a pinned
   * directory, checks it with {@code trusted}, and refuses a config or state directory that is not
   * a directory of the run's user closed to others); then {@code lock}, {@code restore_and_clean}
   * and {@code recorded}, described at {@link #LOCK}.
   */
  RemoteScript script() {
    RemoteScript script =
        new RemoteScript()
            .set("dir", path)
            .set("parent", parent)
            .set("base", base)
            .set("vstate", state());
    return VmPaths.define(script)
        .lines(
            "enter() {",
            "  [ -d \"$parent\" ] || mkdir -p -- \"$parent\" || fail 21 \"cannot create $parent\"",
            "  cd -P -- \"$parent\" || fail 21 \"cannot enter $parent\"",
            "  top=$PWD",
            "  trusted \"$parent\" \"$top\"",
            "  mine '" + VmPaths.PRIVATE_OR_READABLE + "' \"./$base\"",
            "  mine '" + VmPaths.OWNER_ONLY + "' \"./$vstate\"",
            "}")
        .lines(LOCK);
  }

  /**
   * {@code lock}: takes {@code $vstate/lock} (a directory: {@code mkdir} is atomic), waiting up to
   * 30 s for a script that still runs (a retry can reach the VM while the attempt whose connection
   * dropped is finishing); a lock whose holder (the {@code sh} of the channel, {@code $$}) is gone
   * is taken over. {@code restore_and_clean}: puts back a bundle that a killed swap left in {@code
   * $vstate/old} and deletes the rest of what a killed script left in the state directory, never
   * {@code previous}. {@code recorded DIR}: whether {@code DIR} holds a marker whose generation the
   * state directory lists, i.e. a bundle this user's vmonboard wrote. {@code made NAME}: whether
   * the state directory records that vmonboard made the sibling directory {@code NAME} (a
   * launcher's host directory).
   */
  private static final String[] LOCK = {
    "lock() {",
    "  vmo_i=0",
    "  until mkdir -- \"./$vstate/lock\" 2>/dev/null; do",
    // Not held but not creatable (read-only, no space): said at once, with mkdir's own words.
    "    if [ ! -d \"./$vstate/lock\" ]; then",
    "      if mkdir -- \"./$vstate/lock\"; then break; fi",
    "      [ -d \"./$vstate/lock\" ] || fail 21 \"cannot take the lock in $parent/$vstate\"",
    "    fi",
    "    vmo_h=''",
    "    [ -f \"./$vstate/lock/pid\" ] && read -r vmo_h < \"./$vstate/lock/pid\"",
    "    if [ -n \"$vmo_h\" ] && ! kill -0 \"$vmo_h\" 2>/dev/null; then rm -rf -- \"./$vstate/lock\"; continue; fi",
    "    vmo_i=$((vmo_i + 1))",
    "    [ \"$vmo_i\" -lt 300 ] || fail 29 \"another vmonboard script has held $parent/$vstate/lock for 30 s\"",
    "    sleep 0.1 2>/dev/null || sleep 1",
    "  done",
    "  echo \"$$\" > \"./$vstate/lock/pid\"",
    "  locked=1",
    "}",
    "unlock() {",
    "  if [ -n \"${locked:-}\" ]; then rm -rf -- \"./$vstate/lock\"; locked=''; fi",
    "}",
    "restore_and_clean() {",
    "  if [ ! -e \"./$base\" ] && [ ! -L \"./$base\" ] && [ -d \"./$vstate/old\" ]; then",
    "    mv -- \"./$vstate/old\" \"./$base\"",
    "  fi",
    "  for o in new old tok seed; do",
    "    if [ -e \"./$vstate/$o\" ]; then rm -rf -- \"./$vstate/$o\"; fi",
    "  done",
    "}",
    "made() {",
    "  [ -f \"./$vstate/dirs\" ] || return 1",
    "  while IFS= read -r k; do [ \"$k\" != \"$1\" ] || return 0; done < \"./$vstate/dirs\"",
    "  return 1",
    "}",
    "recorded() {",
    "  [ -f \"$1/"
        + MARKER
        + "\" ] && [ ! -L \"$1/"
        + MARKER
        + "\" ] && [ -f \"./$vstate/gens\" ] || return 1",
    "  read -r g < \"$1/" + MARKER + "\" || return 1",
    "  while read -r k; do [ \"$k\" != \"$g\" ] || return 0; done < \"./$vstate/gens\"",
    "  return 1",
    "}",
  };
}
