package dev.vmonboard.ssh;

/**
 * The shell functions that hold the one rule for paths on a VM, shared by the transport and both
 * launchers: a path is used only once it is known that nobody but root and the run's user could
 * have planted what is found there.
 *
 * <ul>
 *   <li>{@code trusted DIR...}: every directory a path is reached through (each prefix of each
 *       {@code DIR}, listed by one {@code ls -ldn}, which never follows the last component) belongs
 *       to root or to the run's user ({@code $me}), is a link only if theirs, and is writable by
 *       others only with the sticky bit (others may add entries there, not replace ours). Scripts
 *       call it with the path as given and with the physical path that {@code cd -P} found, so that
 *       a link anywhere on the way is covered; they then work relative to that directory, which
 *       pins it: renaming a parent later cannot redirect a write.
 *   <li>{@code mine PATTERN NAME...}: every {@code NAME} that exists is a directory of {@code $me}
 *       whose {@code ls} mode matches {@code PATTERN}: a link, a FIFO, a device, a file, a
 *       directory of someone else or one with a mode others can write is refused, never used.
 *   <li>{@code plain FILE}: {@code FILE} is a regular file, not a link: checked before anything
 *       opens it, so that a planted FIFO or device ends in an error instead of a blocked read.
 * </ul>
 *
 * POSIX {@code test} cannot read a mode or an owner, so both functions parse {@code ls -ldn}
 * (numeric owners, the C locale). Values never reach a line other than as quoted variables.
 */
final class VmPaths {

  /** A directory of the run's user that only it can write (bundle directories: 0750, 0755). */
  static final String PRIVATE_OR_READABLE = "d????[!w]??[!w][x-]";

  /** A directory only the run's user can read or write (state, certificate directories). */
  static final String OWNER_ONLY = "drwx------";

  private VmPaths() {}

  /** Appends {@code me}, the C locale and the functions above to {@code script}. */
  static RemoteScript define(RemoteScript script) {
    return script.lines(
        "LC_ALL=C; export LC_ALL",
        "me=''",
        "whoami_() { [ -n \"$me\" ] || me=$(id -u) || fail 21 'cannot tell the user id (id -u)'; }",
        "trusted() {",
        "  whoami_",
        "  vmo_c=$#",
        "  for vmo_p do",
        "    while :; do",
        "      set -- \"$@\" \"$vmo_p\"",
        "      [ \"$vmo_p\" != / ] || break",
        "      vmo_p=${vmo_p%/*}; vmo_p=${vmo_p:-/}",
        "    done",
        "  done",
        "  shift \"$vmo_c\"",
        "  vmo_o=$(ls -ldn -- \"$@\") || fail 21 \"cannot inspect the directories above $1\"",
        "  while read -r vmo_m _ vmo_u _ _ _ _ _ vmo_n; do",
        "    vmo_m=${vmo_m%.}",
        "    case $vmo_m in",
        "      l*|d????????[tT]|d????[!w]??[!w]?) ;;",
        "      *) fail 20 \"refusing to work below $vmo_n: others may change it ($vmo_m)\" ;;",
        "    esac",
        "    [ \"$vmo_u\" = 0 ] || [ \"$vmo_u\" = \"$me\" ] || fail 20 \"refusing to work below $vmo_n:"
            + " it belongs to uid $vmo_u, not to root or uid $me\"",
        "  done <<VMO_LS",
        "$vmo_o",
        "VMO_LS",
        "}",
        "mine() {",
        "  whoami_",
        "  vmo_pat=$1; shift",
        "  vmo_o=$(ls -ldn -- \"$@\" 2>/dev/null)",
        "  while read -r vmo_m _ vmo_u _ _ _ _ _ vmo_n; do",
        "    [ -n \"$vmo_m\" ] || continue",
        "    vmo_m=${vmo_m%.}",
        "    case $vmo_m in",
        "      $vmo_pat) [ \"$vmo_u\" = \"$me\" ] || fail 20 \"refusing to use $vmo_n: it belongs to uid $vmo_u,"
            + " not to uid $me\" ;;",
        "      d*) fail 20 \"refusing to use $vmo_n: its mode $vmo_m lets others in\" ;;",
        "      *) fail 20 \"refusing to use $vmo_n: not a directory but $vmo_m\" ;;",
        "    esac",
        "  done <<VMO_LS",
        "$vmo_o",
        "VMO_LS",
        "}",
        "plain() {",
        "  [ -f \"$1\" ] && [ ! -L \"$1\" ] || fail 41 \"$1 is missing or not a plain file\"",
        "}");
  }
}
