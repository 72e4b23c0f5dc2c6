package dev.vmonboard.ssh;

import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import dev.vmonboard.core.internal.Names;

/**
 * A target's config directory, validated (absolute, normalised, no control characters), with the
 * names of the transport's temporary siblings. The transport and the launchers read the target's
 * directory only through it.
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
   * The kind of the sibling that holds the bundle a delivery replaced, until the pipeline restores
   * or discards it ({@code PARENT/.BASE.vmonboard-previous}, in scripts {@code $prev}).
   */
  static final String PREVIOUS = "previous";

  /** A temporary sibling: {@code PARENT/.BASE.vmonboard-KIND}. */
  String litter(String kind) {
    return prefix() + kind;
  }

  private String prefix() {
    return (parent.equals("/") ? "/" : parent + "/") + "." + base + ".vmonboard-";
  }

  /**
   * A script with {@code dir}, {@code parent}, {@code litter} and {@code prev} (the {@link
   * #PREVIOUS} sibling) set, and two functions: {@code restore_and_clean} (puts back a previous
   * bundle a killed delivery left aside, deletes the rest of its litter, but not {@code $prev},
   * which waits for its restore or discard) and {@code refuse_foreign} (fails unless the directory
   * is absent, empty or marked as vmonboard's).
   */
  RemoteScript script() {
    return new RemoteScript()
        .set("dir", path)
        .set("parent", parent)
        .set("litter", prefix())
        .set("prev", litter(PREVIOUS))
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
