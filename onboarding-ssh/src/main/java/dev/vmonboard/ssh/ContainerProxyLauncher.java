package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Problem;
import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Starts the proxy as a container on the VM with {@code docker} (the default) or {@code podman},
 * optionally through {@code sudo -n}.
 *
 * <p>{@link #launch} runs as one script, in the run's shell (the same exec channel as the
 * delivery): it checks that the VM has {@code curl} or {@code wget}, runs the launch's {@linkplain
 * ContainerLaunch#prepareCommands(String) prepare commands} (creates the {@linkplain
 * ContainerLaunch#hostDirectories() host directories} owner-only, as the SSH user, and copies their
 * seed files in, such as the root certificate), removes an old container of the same name (its
 * absence is fine: a failed {@code rm -f} counts only when the run then fails and a container of
 * that name is still there, not one the failed run created), runs the new one from the bundle's
 * {@link ContainerLaunch}, then polls until the container is running and the readiness URL answers,
 * or fails as soon as the container exits (with its exit code and last log lines) or when the
 * readiness timeout passes. Failures carry the runtime's exit code and the last lines of its
 * stderr. {@link #remove} removes the container, then deletes the host directories, so that
 * offboarding leaves nothing of the proxy on the VM.
 *
 * <p>Every value (container name, image, paths, arguments) reaches the shell through {@link
 * Shell#quote}; the container name, the image and the readiness URL are also checked against what
 * the runtime accepts, and the config directory as the transport checks it, so that a hostile
 * annotation is refused with a clear error.
 */
public final class ContainerProxyLauncher implements ProxyLauncher {

  private static final Pattern CONTAINER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
  private static final Pattern IMAGE = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}");
  private static final String DOWN_HINT =
      "the proxy container exited: read its logs above; check the image and the bundle";

  private final SshConnector connector;
  private final String runtime;
  private final boolean sudo;
  private final Readiness readiness;

  private ContainerProxyLauncher(Builder b) {
    this.connector = b.connector;
    this.runtime = b.runtime;
    this.sudo = b.sudo;
    this.readiness = b.readiness();
  }

  /** A builder: docker, no sudo, 120 s readiness timeout polled every 500 ms. */
  public static Builder builder(SshConnector connector) {
    return new Builder(connector);
  }

  /** Configures a {@link ContainerProxyLauncher}. */
  public static final class Builder extends LauncherBuilder<Builder> {
    private String runtime = "docker";

    private Builder(SshConnector connector) {
      super(connector);
    }

    @Override
    Builder self() {
      return this;
    }

    /** Uses {@code podman} instead of {@code docker}. */
    public Builder podman() {
      this.runtime = "podman";
      return this;
    }

    /** The launcher. */
    public ContainerProxyLauncher build() {
      return new ContainerProxyLauncher(this);
    }
  }

  @Override
  public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
    ContainerLaunch spec = spec(bundle, context);
    String configDir = ConfigDir.of(target, context).path();
    String what = "container " + spec.containerName();
    RemoteScript script = script(spec, context);
    Readiness.defineProbe(script, true);
    for (List<String> command : spec.prepareCommands(configDir)) {
      script.lines(
          Shell.join(command)
              + " || fail 36 "
              + Shell.quote("cannot prepare " + command.get(command.size() - 1)));
    }
    script.lines(
        "rt rm -f \"$name\" >/dev/null 2>&1 || kept=1",
        "rt " + Shell.join(spec.runArguments(configDir)) + " >/dev/null || {",
        "  rc=$?",
        "  if [ -n \"${kept:-}\" ]; then",
        "    case $(rt inspect --format '{{.State.Status}}' \"$name\" 2>/dev/null) in",
        "      '' | created) ;;",
        "      *) fail 31 \"cannot remove the old container $name\" ;;",
        "    esac",
        "  fi",
        "  fail 32 \"$runtime run exited with code $rc\"",
        "}");
    readiness.appendWait(
        script,
        "container $name",
        // The runtime's words inline, not the rt function: the command substitution then runs
        // the runtime in its own process, without one more fork.
        "state=$("
            + Shell.join(prefix())
            + " inspect --format '{{.State.Status}}' \"$name\" 2>/dev/null) || state=missing;"
            + " case $state in created|restarting) state=starting ;; esac",
        "rt logs --tail 20 \"$name\" >&2 2>&1;"
            + " why=\" (exit code $(rt inspect --format '{{.State.ExitCode}}' \"$name\" 2>&1))\"");
    return readiness.launch(
        VmSession.of(connector, target, context),
        what,
        script,
        context,
        code ->
            code == 36
                ? "check that "
                    + target.user().orElse("the SSH user")
                    + " may create directories next to "
                    + configDir
                : Readiness.hint(code, DOWN_HINT));
  }

  /** Refuses, before anything is delivered, a bundle that is not a {@link ContainerLaunch}. */
  @Override
  public List<Problem> check(Bundle bundle, Target target) {
    return LaunchKind.require(
        bundle,
        ContainerLaunch.class,
        "ContainerProxyLauncher",
        "SystemdProxyLauncher",
        "ContainerBundleFactory");
  }

  @Override
  public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
    ContainerLaunch spec = spec(bundle, context);
    RemoteScript script = script(spec, context);
    Readiness.defineProbe(script, false);
    script.lines(
        "state=$(rt inspect --format '{{.State.Status}}' \"$name\" 2>/dev/null) || {"
            + " say absent; exit 0; }",
        "if [ \"$state\" != running ]; then say \"stopped $state\"; exit 0; fi",
        "probe >/dev/null 2>&1; rc=$?",
        "if [ $rc -eq 0 ]; then say ready; elif [ $rc -eq 2 ]; then say unknown; else say"
            + " not-ready; fi");
    String out = Readiness.query(VmSession.of(connector, target, context), script, context);
    String what = "container " + spec.containerName();
    if (out.equals("absent")) {
      return ProxyStatus.of(ProxyStatus.State.ABSENT, "no " + what);
    }
    if (out.startsWith("stopped")) {
      return ProxyStatus.of(ProxyStatus.State.STOPPED, what + " is " + out.substring(7).strip());
    }
    if (out.equals("ready")) {
      return ProxyStatus.of(ProxyStatus.State.READY, what + " running and ready");
    }
    return ProxyStatus.of(
        ProxyStatus.State.NOT_READY,
        what
            + (out.equals("unknown")
                ? " running; readiness unknown (no curl or wget on the VM)"
                : " running but not ready"));
  }

  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {
    ContainerLaunch spec = spec(bundle, context);
    String configDir = ConfigDir.of(target, context).path();
    RemoteScript script =
        script(spec, context)
            .lines(
                "if rt inspect --format '{{.State.Status}}' \"$name\" >/dev/null 2>&1; then",
                "  rt rm -f \"$name\" >/dev/null || fail 31 \"cannot remove container $name\"",
                "fi");
    for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
      String path = Shell.quote(directory.path(configDir));
      script.lines("rm -rf -- " + path + " || fail 37 'cannot delete '" + path);
    }
    script.lines("say removed");
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result = session.run("remove the proxy", script, Duration.ofMinutes(2), context);
    if (result.exitCode() != 0) {
      throw session.failure(
          "remove the proxy container " + spec.containerName(),
          result,
          context,
          false,
          "check that the SSH user may use " + runtime + (sudo ? " through sudo -n" : ""));
    }
  }

  @Override
  public List<String> describeLaunch(Bundle bundle, Target target) {
    if (!(bundle.launch() instanceof ContainerLaunch)) {
      return List.of("cannot start " + bundle.launch().getClass().getSimpleName() + " here");
    }
    ContainerLaunch spec = (ContainerLaunch) bundle.launch();
    String configDir = ConfigDir.trimmed(target.configDir());
    List<String> lines = new ArrayList<>();
    lines.add(VmSession.plan(target, "one script in the run's exec channel (after the delivery):"));
    for (List<String> command : spec.prepareCommands(configDir)) {
      lines.add("  " + Shell.join(command));
    }
    lines.add(
        "  "
            + Shell.join(prefix())
            + " rm -f "
            + Shell.quote(spec.containerName())
            + " (if present)");
    List<String> words = new ArrayList<>(prefix());
    words.addAll(spec.runArguments(configDir));
    lines.add("  " + Shell.join(words));
    lines.add(
        "  poll "
            + spec.readinessUrl()
            + " until ready ("
            + readiness.timeout().toSeconds()
            + " s)");
    return lines;
  }

  @Override
  public List<String> describeRemoval(Bundle bundle, Target target) {
    if (!(bundle.launch() instanceof ContainerLaunch)) {
      return List.of("cannot remove " + bundle.launch().getClass().getSimpleName() + " here");
    }
    ContainerLaunch spec = (ContainerLaunch) bundle.launch();
    String configDir = ConfigDir.trimmed(target.configDir());
    List<String> lines = new ArrayList<>();
    lines.add(
        VmSession.plan(
            target,
            Shell.join(prefix())
                + " rm -f "
                + Shell.quote(spec.containerName())
                + " (if present)"));
    for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
      lines.add("  rm -rf -- " + Shell.quote(directory.path(configDir)));
    }
    return lines;
  }

  private RemoteScript script(ContainerLaunch spec, StageContext context) {
    return new RemoteScript()
        .set("name", spec.containerName())
        .set("runtime", runtime)
        .set("url", Readiness.checkUrl(spec.readinessUrl(), context))
        .function("rt", prefix());
  }

  private List<String> prefix() {
    return sudo ? List.of("sudo", "-n", runtime) : List.of(runtime);
  }

  private static ContainerLaunch spec(Bundle bundle, StageContext context) {
    if (!(bundle.launch() instanceof ContainerLaunch)) {
      throw StageException.permanent(
          "the bundle of "
              + context.workload()
              + " asks for "
              + bundle.launch().getClass().getSimpleName()
              + ", which ContainerProxyLauncher cannot start",
          "use SystemdProxyLauncher for istio-sidecar (systemd) bundles");
    }
    ContainerLaunch spec = (ContainerLaunch) bundle.launch();
    List<String> problems = new ArrayList<>();
    if (!CONTAINER_NAME.matcher(spec.containerName()).matches()) {
      problems.add(
          "container name '"
              + RemoteScript.printable(spec.containerName())
              + "' (letters, digits, '_', '.', '-'; starting with a letter or digit)");
    }
    if (!IMAGE.matcher(spec.image()).matches()) {
      problems.add(
          "image '"
              + RemoteScript.printable(spec.image())
              + "' (a registry/repository:tag or @digest reference)");
    }
    if (!problems.isEmpty()) {
      throw StageException.permanent(
          "the container launch of "
              + context.workload()
              + " has invalid "
              + String.join(", ", problems),
          "fix the proxy-container-name / proxy-image-hub annotations or the image settings");
    }
    return spec;
  }

  @Override
  public String toString() {
    return "ContainerProxyLauncher[" + (sudo ? "sudo " : "") + runtime + "]";
  }
}
