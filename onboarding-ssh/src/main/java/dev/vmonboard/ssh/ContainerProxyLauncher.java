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
 * <p>{@link #launch} runs in one exec channel: it checks that the VM has {@code curl} or {@code
 * wget}, removes an old container of the same name (its absence is fine: a failed {@code rm -f}
 * counts only if the container is still there), runs the new one from the bundle's {@link
 * ContainerLaunch}, then polls until the container is running and the readiness URL answers, or
 * fails as soon as the container exits (with its exit code and last log lines) or when the
 * readiness timeout passes. Failures carry the runtime's exit code and the last lines of its
 * stderr. Every value (container name, image, paths, arguments) reaches the shell through {@link
 * Shell#quote}; the container name, the image and the readiness URL are also checked against what
 * the runtime accepts, so that a hostile annotation is refused with a clear error.
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
    String what = "container " + spec.containerName();
    RemoteScript script = script(spec, context);
    Readiness.defineProbe(script, true);
    script.lines(
        "rt rm -f \"$name\" >/dev/null 2>&1 ||"
            + " if rt inspect --format '{{.State.Status}}' \"$name\" >/dev/null 2>&1; then",
        "  fail 31 \"cannot remove the old container $name\"",
        "fi",
        "rt "
            + Shell.join(spec.runArguments(configDir(target)))
            + " >/dev/null || fail 32 \"$runtime run exited with code $?\"");
    readiness.appendWait(
        script,
        "container $name",
        "state=$(rt inspect --format '{{.State.Status}}' \"$name\" 2>/dev/null) || state=missing;"
            + " case $state in created|restarting) state=starting ;; esac",
        "rt logs --tail 20 \"$name\" >&2 2>&1;"
            + " why=\" (exit code $(rt inspect --format '{{.State.ExitCode}}' \"$name\" 2>&1))\"");
    return readiness.launch(
        VmSession.of(connector, target, context),
        what,
        script,
        context,
        code -> Readiness.hint(code, DOWN_HINT));
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
            + " echo absent; exit 0; }",
        "if [ \"$state\" != running ]; then echo \"stopped $state\"; exit 0; fi",
        "probe >/dev/null 2>&1; rc=$?",
        "if [ $rc -eq 0 ]; then echo ready; elif [ $rc -eq 2 ]; then echo unknown; else echo"
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
    RemoteScript script =
        script(spec, context)
            .lines(
                "if rt inspect --format '{{.State.Status}}' \"$name\" >/dev/null 2>&1; then",
                "  rt rm -f \"$name\" >/dev/null || fail 31 \"cannot remove container $name\"",
                "fi",
                "echo removed");
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result =
        session.run("remove the proxy", script, new byte[0], Duration.ofMinutes(2), context);
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
    List<String> words = new ArrayList<>(prefix());
    words.addAll(spec.runArguments(configDir(target)));
    return List.of(
        "ssh " + target.host() + ":" + target.port() + ": one exec channel:",
        "  "
            + Shell.join(prefix())
            + " rm -f "
            + Shell.quote(spec.containerName())
            + " (if present)",
        "  " + Shell.join(words),
        "  poll "
            + spec.readinessUrl()
            + " until ready ("
            + readiness.timeout().toSeconds()
            + " s)");
  }

  @Override
  public List<String> describeRemoval(Bundle bundle, Target target) {
    String name =
        bundle.launch() instanceof ContainerLaunch
            ? ((ContainerLaunch) bundle.launch()).containerName()
            : "?";
    return List.of(
        "ssh " + target.host() + ": " + Shell.join(prefix()) + " rm -f " + Shell.quote(name));
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

  private static String configDir(Target target) {
    String dir = target.configDir().replaceAll("/+$", "");
    return dir.isEmpty() ? "/" : dir;
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
