package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.SystemdLaunch;
import dev.vmonboard.core.Target;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Starts the proxy of the {@code istio-sidecar} package under systemd (Istio's own VM flow).
 *
 * <p>{@link #launch} runs as one script in the run's shell (the exec channel of the delivery): as
 * root (one {@code sudo -n sh}), it installs each bundle file from the delivered config directory
 * at its destination with the owner and mode of the {@link SystemdLaunch} (files marked "append",
 * such as {@code /etc/hosts}, get each missing line appended once), never following a link that
 * anyone but root could have planted, never writing through what is at the destination, and
 * treating the directories of the file's owner ({@code istio-proxy}) as hostile (see {@code
 * installer}); it records what it installed in a root-only state directory ({@link
 * Builder#stateDirectory}). Then {@code systemctl enable --now} the service, or enables and
 * restarts it when it already runs, and polls readiness as {@link ContainerProxyLauncher} does.
 * {@link #reloadToken} installs a refreshed token the same way, without a restart. {@link
 * #restorePrevious} does what the launch does, from the previous bundle the transport has put back,
 * and restarts the service with it. {@link #remove} stops and disables the service and deletes what
 * it recorded installing, while unchanged (appended lines included), and reports what it left.
 * Usually needs {@link Builder#sudo()}: the destinations belong to root.
 */
public final class SystemdProxyLauncher implements ProxyLauncher {

  private static final Pattern UNIT = Pattern.compile("[a-zA-Z0-9:_.@-]{1,200}");
  private static final Pattern ACCOUNT = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}");

  /** An absolute path of plain characters: what a destination or the state directory may be. */
  private static final Pattern SYSTEM_PATH = Pattern.compile("(/[A-Za-z0-9_][A-Za-z0-9._-]*)+");

  private static final SecureRandom RANDOM = new SecureRandom();

  private final SshConnector connector;
  private final boolean sudo;
  private final Readiness readiness;
  private final String stateDirectory;

  private SystemdProxyLauncher(Builder b) {
    this.connector = b.connector;
    this.sudo = b.sudo;
    this.readiness = b.readiness();
    if (!SYSTEM_PATH.matcher(b.stateDirectory).matches()) {
      throw new IllegalArgumentException(
          "the state directory must be an absolute path of letters, digits, '.', '_' and '-'");
    }
    this.stateDirectory = b.stateDirectory;
  }

  /** A builder: no sudo, 120 s readiness timeout polled every 500 ms. */
  public static Builder builder(SshConnector connector) {
    return new Builder(connector);
  }

  /** Configures a {@link SystemdProxyLauncher}. */
  public static final class Builder extends LauncherBuilder<Builder> {

    private String stateDirectory = DEFAULT_STATE_DIRECTORY;

    private Builder(SshConnector connector) {
      super(connector);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Where on the VM vmonboard records what it installed ({@value #DEFAULT_STATE_DIRECTORY} if
     * unset): an absolute path below directories only root can change; made {@code 0700}.
     */
    public Builder stateDirectory(String path) {
      this.stateDirectory = Objects.requireNonNull(path, "path");
      return this;
    }

    /** The launcher. */
    public SystemdProxyLauncher build() {
      return new SystemdProxyLauncher(this);
    }
  }

  /** Where vmonboard records what it installed, unless the builder says otherwise. */
  public static final String DEFAULT_STATE_DIRECTORY = "/var/lib/vmonboard";

  @Override
  public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    return readiness.launch(
        VmSession.of(connector, target, context),
        "service " + spec.serviceName(),
        startScript(bundle, spec, target, context),
        context,
        SystemdProxyLauncher::hint);
  }

  /**
   * Installs the files of the bundle that {@link dev.vmonboard.core.Transport#restorePrevious} has
   * just put back into the config directory, as {@link #launch} does (to the destinations that
   * {@code bundle}, the one whose launch failed, names), then restarts the service and waits until
   * it answers ready. The service's previous state is its installed files: there is nothing else to
   * keep, so {@link #discardPrevious} has nothing to drop.
   *
   * @return true: the service runs again from the restored files
   */
  @Override
  public boolean restorePrevious(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    readiness
        .restore(
            VmSession.of(connector, target, context),
            "service " + spec.serviceName(),
            startScript(bundle, spec, target, context),
            context,
            SystemdProxyLauncher::hint)
        .orElseThrow();
    return true;
  }

  /**
   * The script that installs the bundle's files from the config directory, then enables and starts
   * the service (restarts it when it is active) and waits until it answers ready.
   */
  private RemoteScript startScript(
      Bundle bundle, SystemdLaunch spec, Target target, StageContext context) {
    RemoteScript script = script(spec, target, context);
    Readiness.defineProbe(script, true);
    appendAsRoot(script, installer(bundle, spec.installs(), spec, target, context));
    script.lines(
        "if as_root systemctl is-active --quiet \"$svc\"; then",
        "  as_root systemctl enable \"$svc\" >/dev/null || fail 43 \"systemctl enable $svc failed\"",
        "  as_root systemctl restart \"$svc\" || fail 43 \"systemctl restart $svc failed\"",
        "else",
        "  as_root systemctl enable --now \"$svc\" || fail 43 \"systemctl enable --now $svc"
            + " failed\"",
        "fi");
    readiness.appendWait(
        script,
        "service $svc",
        "if as_root systemctl is-active --quiet \"$svc\"; then state=running; else state=$(as_root"
            + " systemctl is-active \"$svc\" 2>/dev/null); case $state in"
            + " activating|reloading) state=starting ;; esac; fi",
        "as_root systemctl status \"$svc\" >&2 2>&1");
    return script;
  }

  /** Hint for the exit code of a start script. */
  private static String hint(int code) {
    return code == 41
        ? "deliver the bundle before starting the proxy"
        : code == 42 || code == 43
            ? "the SSH user needs root rights for the installs and systemctl: use sudo()"
            : Readiness.hint(code, "the service stopped: read its status above");
  }

  /**
   * Re-installs the token that {@link dev.vmonboard.core.Transport#deliverToken} just replaced in
   * the config directory to its install destination (such as {@code
   * /var/run/secrets/tokens/istio-token}): copied to a temporary file next to it, given its owner
   * and mode, then renamed over the old one, so that the agent reads either the old or the new
   * token, never a partial one. The service is not restarted. Does nothing when the bundle installs
   * no copy of the token.
   */
  @Override
  public void reloadToken(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    List<SystemdLaunch.FileInstall> tokens =
        spec.installs().stream()
            .filter(install -> !install.append() && install.source().equals(bundle.tokenPath()))
            .toList();
    if (tokens.isEmpty()) {
      return;
    }
    RemoteScript script = script(spec, target, context);
    appendAsRoot(script, installer(bundle, tokens, spec, target, context));
    script.lines("say reloaded");
    VmSession session = VmSession.of(connector, target, context);
    String what = "re-install the token of service " + spec.serviceName();
    ExecResult result = session.run(what, script, Duration.ofMinutes(1), context);
    if (result.exitCode() != 0 || !result.stdoutText().strip().endsWith("reloaded")) {
      throw session.failure(
          what,
          result,
          context,
          false,
          result.exitCode() == 41
              ? "onboard the VM (deliver the whole bundle) first"
              : "the SSH user needs root rights for the token's destination: use sudo()");
    }
  }

  /**
   * Appends {@code inner} run as root ({@code as_root sh -s}, the script on its standard input from
   * a quoted here-document, so nothing of it is expanded by this shell and no value appears in a
   * command line), failing with its exit code; each line it prints is said as a result.
   */
  private static void appendAsRoot(RemoteScript script, RemoteScript inner) {
    String end = "VMO_ROOT_" + random();
    script.lines(
        "vmo_r=$(as_root sh -s <<'" + end + "'",
        inner.text() + end,
        ") || exit $?",
        "if [ -n \"$vmo_r\" ]; then",
        "  while IFS= read -r vmo_l; do say \"$vmo_l\"; done <<VMO_R",
        "$vmo_r",
        "VMO_R",
        "fi");
  }

  /**
   * The script, run as root, that installs {@code installs} from the delivered config directory and
   * records them. Every destination directory is reached from {@code /} one component at a time
   * ({@code reach}), working relative to the directory just entered, so that nothing moved later
   * can redirect a write: a link is followed only when root or the run's user owns it and sits in a
   * directory only they can change; a directory of the file's own owner ({@code istio-proxy}, who
   * owns Istio's directories in the official flow) is entered but treated as hostile; anything
   * else, and a world-writable final directory, is refused. A file goes in by {@code install}
   * (owner and mode set before anyone can see it) to a new name nobody can predict, then {@code mv
   * -T} over the destination, which replaces a link, FIFO or file someone left there without ever
   * opening it: directly in a directory only root can change; in a hostile one, from inside a new
   * root-only directory made there, entered and checked ({@code [ -O . ]} and its physical path),
   * so the owner of the directory cannot swap what root writes. Appended lines go only into a plain
   * file in a directory only root can change, and only the lines missing there. The state directory
   * ({@code 0700}, root's) records each installed file (content hash, path) and each appended line:
   * the only things {@link #remove} ever deletes.
   */
  private RemoteScript installer(
      Bundle bundle,
      List<SystemdLaunch.FileInstall> installs,
      SystemdLaunch spec,
      Target target,
      StageContext context) {
    RemoteScript inner = rootScript(spec, target, context);
    inner.lines(
        "umask 022",
        "enter_state",
        ": > \"$S/$svc.files.new\" || fail 42 \"cannot write in $S\"",
        "done_paths=' '",
        // Records of files installed before and not installed now stay, as do appended lines;
        // on a failure too, so that what was installed before it is recorded (and removable).
        "finish_records() {",
        "  if [ -f \"$S/$svc.files\" ]; then",
        "    while read -r k r; do",
        "      case $k in",
        "        f) case $done_paths in *\" ${r##* } \"*) ;; *) printf 'f %s\\n' \"$r\" ;; esac ;;",
        "        a) printf 'a %s\\n' \"$r\" ;;",
        "      esac",
        "    done < \"$S/$svc.files\" >> \"$S/$svc.files.new\"",
        "  fi",
        "  mv -f -- \"$S/$svc.files.new\" \"$S/$svc.files\"",
        "}",
        "trap finish_records EXIT",
        "install_file() {",
        "  [ -f \"$dir/$1\" ] && [ ! -L \"$dir/$1\" ] || fail 41 \"$1 is not in the delivered"
            + " bundle at $dir (or not a plain file)\"",
        "  ou=$(id -u -- \"$3\") || fail 42 \"there is no user $3 on the VM\"",
        "  reach \"${2%/*}\"",
        "  f=${2##*/}; t=.$f.vmonboard-$rnd",
        "  case $pk in",
        "    t) install -m \"$5\" -o \"$3\" -g \"$4\" -- \"$dir/$1\" \"./$t\" &&"
            + " mv -f -T -- \"./$t\" \"./$f\" ||"
            + " { rm -f -- \"./$t\"; fail 42 \"cannot install $2 as $3:$4 $5\"; } ;;",
        "    o) mkdir -m 0700 -- \"./$t\" || fail 42 \"cannot install $2: cannot create a private"
            + " directory in ${2%/*}\"",
        "       pd=$PWD",
        "       cd -P -- \"./$t\" && [ \"$PWD\" = \"${pd%/}/$t\" ] && [ -O . ] && [ ! -L \"$pd/$t\" ] ||"
            + " fail 42 \"cannot install $2: its private directory was replaced\"",
        "       install -m \"$5\" -o \"$3\" -g \"$4\" -- \"$dir/$1\" ./f &&"
            + " mv -f -T -- ./f \"../$f\" || fail 42 \"cannot install $2 as $3:$4 $5\"",
        "       cd .. && rmdir -- \"./$t\" ;;",
        "  esac",
        "  printf 'f %s %s %s\\n' \"$6\" \"$ou\" \"$2\" >> \"$S/$svc.files.new\"",
        "  done_paths=\"$done_paths$2 \"",
        "}",
        "append_file() {",
        "  [ -f \"$dir/$1\" ] && [ ! -L \"$dir/$1\" ] || fail 41 \"$1 is not in the delivered"
            + " bundle at $dir (or not a plain file)\"",
        "  ou=0",
        "  reach \"${2%/*}\"",
        "  f=${2##*/}",
        "  [ \"$pk\" = t ] || fail 42 \"refusing to append to $2: others can change ${2%/*}\"",
        "  if [ -e \"./$f\" ] || [ -L \"./$f\" ]; then",
        "    [ -f \"./$f\" ] && [ ! -L \"./$f\" ] || fail 42 \"refusing to append to $2: not a"
            + " plain file\"",
        "    missing=$(grep -vxF -f \"./$f\" -- \"$dir/$1\")",
        "    [ $? -le 1 ] || fail 42 \"cannot read $2\"",
        "  else",
        "    missing=$(cat -- \"$dir/$1\") || fail 42 \"cannot read $1\"",
        "  fi",
        "  [ -n \"$missing\" ] || return 0",
        "  if [ -s \"./$f\" ] && [ -n \"$(tail -c 1 -- \"./$f\")\" ]; then printf '\\n' >> \"./$f\"; fi",
        "  while IFS= read -r l; do",
        "    [ -n \"$l\" ] || continue",
        "    printf '%s\\n' \"$l\" >> \"./$f\" || fail 42 \"cannot append to $2\"",
        "    printf 'a %s %s\\n' \"$2\" \"$l\" >> \"$S/$svc.files.new\"",
        "  done <<VMO_LINES",
        "$missing",
        "VMO_LINES",
        "}");
    for (SystemdLaunch.FileInstall install : installs) {
      if (install.append()) {
        inner.lines("append_file " + Shell.join(install.source(), install.destination()));
      } else {
        inner.lines(
            "install_file "
                + Shell.join(
                    install.source(),
                    install.destination(),
                    install.owner(),
                    install.group(),
                    String.format("%04o", install.mode()),
                    sha256(bundle, install.source())));
      }
    }
    inner.lines("trap - EXIT", "finish_records || fail 42 \"cannot record in $S\"");
    return inner;
  }

  /**
   * The hex SHA-256 of a bundle file, or of nothing when the bundle lacks it (refused on the VM).
   */
  private static String sha256(Bundle bundle, String path) {
    try {
      java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
      bundle.file(path).ifPresent(file -> digest.update(file.content()));
      return HexFormat.of().formatHex(digest.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String random() {
    byte[] bytes = new byte[9];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /**
   * The start of a script run as root: values set, the {@link VmPaths} functions, {@code reach},
   * {@code enter_state} (reaches the state directory, made {@code 0700} if missing, refused unless
   * root's and owner-only; {@code $S} its physical path) and {@code $tmo} (a {@code timeout} for
   * reads of files others can replace, where the VM has one).
   */
  private RemoteScript rootScript(SystemdLaunch spec, Target target, StageContext context) {
    String state = stateDirectory;
    int slash = state.lastIndexOf('/');
    RemoteScript inner =
        new RemoteScript()
            .set("dir", ConfigDir.of(target, context).path())
            .set("svc", spec.serviceName())
            .set("rnd", random())
            .set("state_parent", slash == 0 ? "/" : state.substring(0, slash))
            .set("state_name", state.substring(slash + 1));
    VmPaths.define(inner);
    return inner.lines(
        "whoami_",
        "tmo=''; if command -v timeout >/dev/null 2>&1; then tmo='timeout 20'; fi",
        // reach DIR [nocreate]: cd into DIR from /, one component at a time (see installer());
        // sets $pk to t (only root or this user can change it), o (the file owner's, $ou:
        // hostile), or missing (with nocreate, where a component does not exist).
        "reach() {",
        "  cd / || fail 42 'cannot enter /'",
        "  vmo_nc=${2:-}",
        "  vmo_ifs=$IFS; IFS=/; set -f; set -- $1; IFS=$vmo_ifs; set +f",
        "  at=''; pk=t",
        "  for c do",
        "    [ -n \"$c\" ] || continue",
        "    if [ -L \"./$c\" ]; then",
        "      [ \"$pk\" = t ] || fail 42 \"refusing to follow the link $at/$c: others can change"
            + " its directory\"",
        "      set -- $(ls -ldn -- \"./$c\") || fail 42 \"cannot inspect $at/$c\"",
        "      [ \"$3\" = 0 ] || [ \"$3\" = \"$me\" ] || fail 42 \"refusing to follow the link"
            + " $at/$c: it belongs to uid $3\"",
        "      cd -P -- \"./$c\" || fail 42 \"cannot enter $at/$c\"",
        "      set -- $(ls -ldn -- .) || fail 42 \"cannot inspect $at/$c\"",
        "    elif [ -d \"./$c\" ]; then",
        "      pd=$PWD",
        "      cd -P -- \"./$c\" && [ \"$PWD\" = \"${pd%/}/$c\" ] || fail 42 \"$at/$c changed while"
            + " vmonboard entered it\"",
        "      set -- $(ls -ldn -- .) || fail 42 \"cannot inspect $at/$c\"",
        "    elif [ -e \"./$c\" ]; then",
        "      fail 42 \"refusing to install below $at/$c: not a directory\"",
        "    elif [ -n \"$vmo_nc\" ]; then",
        "      pk=missing; return 0",
        "    else",
        "      mkdir -m 0755 -- \"./$c\" && cd -P -- \"./$c\" || fail 42 \"cannot create $at/$c\"",
        "      set -- \"drwxr-xr-x\" 2 \"$me\"",
        "    fi",
        "    at=$at/$c; m=${1%.}",
        "    case $m in",
        "      d????????[tT]) k=s ;;",
        "      d????[!w]??[!w]?) k=t ;;",
        "      *) fail 42 \"refusing to install below $at: others may change it ($m)\" ;;",
        "    esac",
        "    if [ \"$3\" != 0 ] && [ \"$3\" != \"$me\" ]; then",
        "      [ \"$3\" = \"${ou:-}\" ] && [ \"$k\" = t ] || fail 42 \"refusing to install below $at:"
            + " it belongs to uid $3\"",
        "      k=o",
        "    fi",
        // Below a hostile directory, everything is hostile; a sticky one only passes through.
        "    [ \"$pk\" != o ] || k=o",
        "    pk=$k",
        "  done",
        "  [ \"$pk\" != s ] || fail 42 \"refusing to install into $at: everybody may write there\"",
        "}",
        "enter_state() {",
        "  ou=''",
        "  reach \"$state_parent\"",
        "  [ \"$pk\" = t ] || fail 42 \"refusing to keep records in $state_parent: others can"
            + " change it\"",
        "  mine '" + VmPaths.OWNER_ONLY + "' \"./$state_name\"",
        "  [ -d \"./$state_name\" ] || mkdir -m 0700 -- \"./$state_name\" || fail 42 \"cannot"
            + " create $state_parent/$state_name\"",
        "  cd -P -- \"./$state_name\" || fail 42 \"cannot enter $state_parent/$state_name\"",
        "  S=$PWD",
        "}");
  }

  /** Refuses, before anything is delivered, a bundle that is not a {@link SystemdLaunch}. */
  @Override
  public List<Problem> check(Bundle bundle, Target target) {
    return LaunchKind.require(
        bundle,
        SystemdLaunch.class,
        "SystemdProxyLauncher",
        "ContainerProxyLauncher",
        "SystemdBundleFactory");
  }

  @Override
  public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    RemoteScript script = script(spec, target, context);
    Readiness.defineProbe(script, false);
    script.lines(
        "if ! as_root systemctl is-active --quiet \"$svc\"; then",
        "  say \"stopped $(as_root systemctl is-active \"$svc\" 2>/dev/null)\"; exit 0",
        "fi",
        "probe >/dev/null 2>&1; rc=$?",
        "if [ $rc -eq 0 ]; then say ready; else say not-ready; fi");
    String out = Readiness.query(VmSession.of(connector, target, context), script, context);
    String what = "service " + spec.serviceName();
    if (out.startsWith("stopped")) {
      return ProxyStatus.of(ProxyStatus.State.STOPPED, what + " is " + out.substring(7).strip());
    }
    return out.equals("ready")
        ? ProxyStatus.of(ProxyStatus.State.READY, what + " active and ready")
        : ProxyStatus.of(ProxyStatus.State.NOT_READY, what + " active but not ready");
  }

  /**
   * Stops and disables the service, then deletes what vmonboard recorded installing: a file only
   * while it is still a plain file with the content vmonboard installed, an appended line only from
   * the file it was appended to (the file rewritten by a copy renamed over it). What is not
   * recorded, or changed since, is left, and the run says so ({@link StageContext#progress}); a VM
   * that vmonboard never onboarded keeps every file.
   */
  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    RemoteScript inner = rootScript(spec, target, context);
    StringBuilder destinations = new StringBuilder();
    for (SystemdLaunch.FileInstall install : spec.installs()) {
      destinations.append(install.destination()).append(' ');
    }
    inner
        .set("dests", destinations.toString())
        .lines(
            "ou=''",
            "reach \"$state_parent\" nocreate",
            "if [ \"$pk\" = missing ] || [ ! -f \"./$state_name/$svc.files\" ]; then",
            "  for d in $dests; do",
            "    if [ -e \"$d\" ] || [ -L \"$d\" ]; then echo \"left $d: vmonboard has no record of"
                + " installing it\"; fi",
            "  done",
            "  exit 0",
            "fi",
            "enter_state",
            "ou=''",
            "remove_file() {",
            "  ou=$3",
            "  reach \"${2%/*}\" nocreate",
            "  [ \"$pk\" != missing ] || return 0",
            "  f=${2##*/}",
            "  if [ -L \"./$f\" ] || { [ -e \"./$f\" ] && [ ! -f \"./$f\" ]; }; then",
            "    echo \"left $2: no longer the plain file vmonboard installed\"; return",
            "  fi",
            "  [ -e \"./$f\" ] || return 0",
            "  h=$($tmo sha256sum -- \"./$f\") || { echo \"left $2: cannot read it\"; return; }",
            "  if [ \"${h%% *}\" = \"$1\" ]; then",
            "    rm -f -- \"./$f\" || fail 45 \"cannot delete $2\"",
            "  else",
            "    echo \"left $2: changed since vmonboard installed it\"",
            "  fi",
            "}",
            "unappend() {",
            "  reach \"${1%/*}\" nocreate",
            "  [ \"$pk\" != missing ] || return 0",
            "  f=${1##*/}",
            "  [ \"$pk\" = t ] || fail 45 \"refusing to rewrite $1: others can change ${1%/*}\"",
            "  if [ ! -e \"./$f\" ] && [ ! -L \"./$f\" ]; then return 0; fi",
            "  [ -f \"./$f\" ] && [ ! -L \"./$f\" ] || { echo \"left the lines vmonboard added to"
                + " $1: no longer a plain file\"; return; }",
            "  t=.$f.vmonboard-$rnd",
            "  cp -p -- \"./$f\" \"./$t\" || fail 45 \"cannot copy $1\"",
            "  grep -vxF -f \"$S/lines\" -- \"./$f\" > \"./$t\"",
            "  [ $? -le 1 ] || { rm -f -- \"./$t\"; fail 45 \"cannot read $1\"; }",
            "  mv -f -T -- \"./$t\" \"./$f\" || { rm -f -- \"./$t\"; fail 45 \"cannot rewrite $1\"; }",
            "}",
            "appended=' '",
            "while read -r k a o b; do",
            "  case $k in",
            "    f) remove_file \"$a\" \"$b\" \"$o\" ;;",
            "    a) case $appended in *\" $a \"*) ;; *) appended=\"$appended$a \" ;; esac ;;",
            "  esac",
            "done < \"$S/$svc.files\"",
            "for p in $appended; do",
            "  while read -r k a r; do",
            "    if [ \"$k\" = a ] && [ \"$a\" = \"$p\" ]; then printf '%s\\n' \"$r\"; fi",
            "  done < \"$S/$svc.files\" > \"$S/lines\"",
            "  ou=''",
            "  unappend \"$p\"",
            "done",
            "rm -f -- \"$S/$svc.files\" \"$S/lines\"");
    RemoteScript script =
        script(spec, target, context)
            .lines(
                "as_root systemctl stop \"$svc\" 2>/dev/null",
                "as_root systemctl disable \"$svc\" 2>/dev/null",
                "if as_root systemctl is-active --quiet \"$svc\"; then fail 44 \"$svc still runs\";"
                    + " fi");
    appendAsRoot(script, inner);
    script.lines("say removed");
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result = session.run("remove the proxy", script, Duration.ofMinutes(2), context);
    if (result.exitCode() != 0) {
      throw session.failure(
          "stop and remove the proxy service " + spec.serviceName(),
          result,
          context,
          false,
          "the SSH user needs root rights for systemctl and the installed files: use sudo()");
    }
    Readiness.reportLeft(result.stdoutText().strip().lines().toList(), context);
  }

  @Override
  public List<String> describeLaunch(Bundle bundle, Target target) {
    if (!(bundle.launch() instanceof SystemdLaunch)) {
      return List.of("cannot start " + bundle.launch().getClass().getSimpleName() + " here");
    }
    SystemdLaunch spec = (SystemdLaunch) bundle.launch();
    List<String> lines = new ArrayList<>();
    lines.add(VmSession.plan(target, "one script in the run's exec channel (after the delivery):"));
    for (SystemdLaunch.FileInstall install : spec.installs()) {
      lines.add(
          "  "
              + (install.append() ? "append missing lines of " : "install (renamed in) ")
              + install.source()
              + " to "
              + install.destination()
              + (install.append()
                  ? ""
                  : " ("
                      + install.owner()
                      + ":"
                      + install.group()
                      + " "
                      + String.format("%04o", install.mode())
                      + ")"));
    }
    lines.add(
        "  record what was installed in "
            + stateDirectory
            + " (root-only); no link others could plant is followed");
    lines.add("  systemctl enable --now " + spec.serviceName() + " (restart if running)");
    lines.add("  poll " + spec.readinessUrl() + " until ready");
    return lines;
  }

  private RemoteScript script(SystemdLaunch spec, Target target, StageContext context) {
    List<String> problems = new ArrayList<>();
    if (!UNIT.matcher(spec.serviceName()).matches()) {
      problems.add("service name '" + RemoteScript.printable(spec.serviceName()) + "'");
    }
    for (SystemdLaunch.FileInstall install : spec.installs()) {
      if (!SYSTEM_PATH.matcher(install.destination()).matches()) {
        problems.add(
            "destination '"
                + RemoteScript.printable(install.destination())
                + "' (an absolute path of letters, digits, '.', '_' and '-')");
      }
      if (!ACCOUNT.matcher(install.owner()).matches()
          || !ACCOUNT.matcher(install.group()).matches()) {
        problems.add(
            "owner '" + RemoteScript.printable(install.owner() + ":" + install.group()) + "'");
      }
    }
    if (!problems.isEmpty()) {
      throw StageException.permanent(
          "the systemd launch of "
              + context.workload()
              + " has invalid "
              + String.join(", ", problems),
          "fix the bundle's SystemdLaunch");
    }
    return new RemoteScript()
        .set("dir", ConfigDir.of(target, context).path())
        .set("svc", spec.serviceName())
        .set("url", Readiness.checkUrl(spec.readinessUrl(), context))
        .function("as_root", sudo ? List.of("sudo", "-n") : List.of("command"));
  }

  private static SystemdLaunch spec(Bundle bundle, StageContext context) {
    if (!(bundle.launch() instanceof SystemdLaunch)) {
      throw StageException.permanent(
          "the bundle of "
              + context.workload()
              + " asks for "
              + bundle.launch().getClass().getSimpleName()
              + ", which SystemdProxyLauncher cannot start",
          "use ContainerProxyLauncher for container bundles");
    }
    return (SystemdLaunch) bundle.launch();
  }

  @Override
  public String toString() {
    return "SystemdProxyLauncher[" + (sudo ? "sudo" : "no sudo") + "]";
  }
}
