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
import dev.vmonboard.core.internal.Names;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Starts the proxy of the {@code istio-sidecar} package under systemd (Istio's own VM flow).
 *
 * <p>{@link #launch} runs as one script in the run's shell (the exec channel of the delivery): it
 * copies each bundle file from the delivered config directory to its destination (through a
 * temporary file renamed into place, with the owner and mode of the {@link SystemdLaunch}; files
 * marked "append", such as {@code /etc/hosts}, get each missing line appended once), then {@code
 * systemctl enable --now} the service, or enables and restarts it when it already runs, and polls
 * readiness as {@link ContainerProxyLauncher} does. {@link #reloadToken} installs a refreshed token
 * the same way, without a restart. {@link #restorePrevious} does what the launch does, from the
 * previous bundle the transport has put back, and restarts the service with it. {@link #remove}
 * stops and disables the service and deletes what it installed (appended lines included). Usually
 * needs {@link Builder#sudo()}: the destinations belong to root.
 */
public final class SystemdProxyLauncher implements ProxyLauncher {

  private static final Pattern UNIT = Pattern.compile("[a-zA-Z0-9:_.@-]{1,200}");
  private static final Pattern ACCOUNT = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}");

  private final SshConnector connector;
  private final boolean sudo;
  private final Readiness readiness;

  private SystemdProxyLauncher(Builder b) {
    this.connector = b.connector;
    this.sudo = b.sudo;
    this.readiness = b.readiness();
  }

  /** A builder: no sudo, 120 s readiness timeout polled every 500 ms. */
  public static Builder builder(SshConnector connector) {
    return new Builder(connector);
  }

  /** Configures a {@link SystemdProxyLauncher}. */
  public static final class Builder extends LauncherBuilder<Builder> {

    private Builder(SshConnector connector) {
      super(connector);
    }

    @Override
    Builder self() {
      return this;
    }

    /** The launcher. */
    public SystemdProxyLauncher build() {
      return new SystemdProxyLauncher(this);
    }
  }

  @Override
  public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    return readiness.launch(
        VmSession.of(connector, target, context),
        "service " + spec.serviceName(),
        startScript(spec, target, context),
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
            startScript(spec, target, context),
            context,
            SystemdProxyLauncher::hint)
        .orElseThrow();
    return true;
  }

  /**
   * The script that installs the bundle's files from the config directory, then enables and starts
   * the service (restarts it when it is active) and waits until it answers ready.
   */
  private RemoteScript startScript(SystemdLaunch spec, Target target, StageContext context) {
    RemoteScript script = script(spec, target, context);
    Readiness.defineProbe(script, true);
    defineInstallers(script);
    for (SystemdLaunch.FileInstall install : spec.installs()) {
      script.lines(install(install));
    }
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
    defineInstallers(script);
    for (SystemdLaunch.FileInstall install : tokens) {
      script.lines(install(install));
    }
    script.lines("say reloaded");
    VmSession session = VmSession.of(connector, target, context);
    String what = "re-install the token of service " + spec.serviceName();
    ExecResult result = session.run(what, script, Duration.ofMinutes(1), context);
    if (result.exitCode() != 0 || !result.stdoutText().strip().equals("reloaded")) {
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
   * Defines {@code install_file SOURCE DEST OWNER GROUP MODE} (a copy renamed into place with its
   * owner and mode) and {@code append_file SOURCE DEST} (each missing line appended once).
   */
  private static void defineInstallers(RemoteScript script) {
    script.lines(
        "umask 077",
        "install_file() {",
        "  [ -f \"$dir/$1\" ] || fail 41 \"$1 is not in the delivered bundle at $dir\"",
        "  as_root mkdir -p -- \"$(dirname -- \"$2\")\" || fail 42 \"cannot create the directory"
            + " of $2\"",
        "  as_root cp -- \"$dir/$1\" \"$2.vmonboard-new\" || fail 42 \"cannot write $2\"",
        "  as_root chown -- \"$3:$4\" \"$2.vmonboard-new\" && as_root chmod -- \"$5\""
            + " \"$2.vmonboard-new\" && as_root mv -f -- \"$2.vmonboard-new\" \"$2\" || {"
            + " as_root rm -f -- \"$2.vmonboard-new\"; fail 42 \"cannot install $2 as $3:$4"
            + " $5\"; }",
        "}",
        "append_file() {",
        "  [ -f \"$dir/$1\" ] || fail 41 \"$1 is not in the delivered bundle at $dir\"",
        "  as_root touch -- \"$2\" || fail 42 \"cannot write $2\"",
        "  while IFS= read -r line || [ -n \"$line\" ]; do",
        "    [ -n \"$line\" ] || continue",
        "    grep -qxF -- \"$line\" \"$2\" && continue",
        "    printf '%s\\n' \"$line\" | as_root tee -a -- \"$2\" >/dev/null || fail 42 \"cannot"
            + " append to $2\"",
        "  done < \"$dir/$1\"",
        "}");
  }

  /** The line that installs one file with {@code install_file} or {@code append_file}. */
  private static String install(SystemdLaunch.FileInstall install) {
    if (install.append()) {
      return "append_file " + Shell.join(install.source(), install.destination());
    }
    return "install_file "
        + Shell.join(
            install.source(),
            install.destination(),
            install.owner(),
            install.group(),
            String.format("%04o", install.mode()));
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

  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {
    SystemdLaunch spec = spec(bundle, context);
    RemoteScript script =
        script(spec, target, context)
            .lines(
                "as_root systemctl stop \"$svc\" 2>/dev/null",
                "as_root systemctl disable \"$svc\" 2>/dev/null",
                "if as_root systemctl is-active --quiet \"$svc\"; then fail 44 \"$svc still runs\";"
                    + " fi",
                "unappend() {",
                "  [ -f \"$dir/$1\" ] && [ -f \"$2\" ] || return 0",
                "  grep -v '^$' \"$dir/$1\" > \"$dir/.vmonboard-lines\"",
                "  as_root grep -vxF -f \"$dir/.vmonboard-lines\" -- \"$2\" >"
                    + " \"$dir/.vmonboard-kept\"",
                "  [ $? -le 1 ] || fail 45 \"cannot read $2\"",
                "  as_root cp -- \"$dir/.vmonboard-kept\" \"$2\" || fail 45 \"cannot rewrite $2\"",
                "  rm -f -- \"$dir/.vmonboard-lines\" \"$dir/.vmonboard-kept\"",
                "}");
    for (SystemdLaunch.FileInstall install : spec.installs()) {
      if (install.append()) {
        script.lines("unappend " + Shell.join(install.source(), install.destination()));
      } else {
        script.lines(
            "as_root rm -f -- "
                + Shell.quote(install.destination())
                + " || fail 45 'cannot delete '"
                + Shell.quote(install.destination()));
      }
    }
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
              + (install.append() ? "append missing lines of " : "install ")
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
      if (!install.destination().startsWith("/") || Names.hasForbidden(install.destination())) {
        problems.add(
            "destination '" + RemoteScript.printable(install.destination()) + "' (absolute path)");
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
