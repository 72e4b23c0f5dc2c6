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
 * delivery): it checks that the VM has {@code curl} or {@code wget}, prepares the {@linkplain
 * ContainerLaunch#hostDirectories() host directories} (created owner-only as the SSH user and
 * recorded as vmonboard's; the container can write them, so their seed files, such as the root
 * certificate, are renamed in, never copied through what is there), then runs the new container
 * from the bundle's {@link ContainerLaunch}. Only when that run fails does it look for an old
 * container of the same name (the usual reason: an update, where the old proxy holds the name): a
 * running one is stopped (on the host network the old and the new proxy cannot both listen) and
 * kept, renamed {@code NAME-vmonboard-previous} (replacing an older kept one), for {@link
 * #restorePrevious}; one that does not run is removed; then it runs the new one again. With no
 * container of that name, the run's own failure is reported: a first start runs nothing but the new
 * container. It then polls until the container is running and the readiness URL answers, or fails
 * as soon as the container exits (with its exit code and last log lines) or when the readiness
 * timeout passes. Failures carry the runtime's exit code and the last lines of its stderr. {@link
 * #restorePrevious} removes the failed container and renames the kept one back and starts it;
 * {@link #discardPrevious} removes the kept one once the new one is ready. {@link #remove} removes
 * the container (and a kept one), then deletes the host directories vmonboard recorded making, so
 * that offboarding leaves nothing of the proxy on the VM and nothing else is deleted.
 *
 * <p>Every value (container name, image, paths, arguments) reaches the shell through {@link
 * Shell#quote}; the container name, the image and the readiness URL are also checked against what
 * the runtime accepts, and the config directory as the transport checks it, so that a hostile
 * annotation is refused with a clear error.
 */
public final class ContainerProxyLauncher implements ProxyLauncher {

  private static final Pattern CONTAINER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
  private static final Pattern IMAGE = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}");

  /** Appended to the container's name to name the old container a launch keeps stopped. */
  private static final String KEPT = "-vmonboard-previous";

  /** What {@link VmSession#keptAside} notes for the container a launch set aside. */
  private static final String KEPT_CONTAINER = "container";

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
    ConfigDir dir = ConfigDir.of(target, context);
    String configDir = dir.path();
    RemoteScript script = starting(spec, dir, context);
    String run = runCommand(spec, configDir);
    script.lines(
        // A first start runs at once; only a failed run (an update: the name is taken) looks for
        // an old container of that name. The first run's stderr counts only when there is none.
        "run_err=$(" + run + " 2>&1 >/dev/null) && run_rc=0 || run_rc=$?",
        "if [ \"$run_rc\" != 0 ]; then",
        "  state=" + stateOf("name") + " || state=''",
        "  case $state in",
        "    '') printf '%s\\n' \"$run_err\" >&2; fail 32 \"$runtime run exited with code $run_rc\" ;;",
        // Kept stopped (host network: the old and the new proxy cannot both listen) for a rollback.
        "    running)",
        "      rt rm -f \"$kept\" >/dev/null 2>&1",
        "      rt stop \"$name\" >/dev/null || fail 31 \"cannot stop the old container $name\"",
        "      rt rename \"$name\" \"$kept\" >/dev/null || {",
        "        rt start \"$name\" >/dev/null",
        "        fail 31 \"cannot keep the old container $name aside as $kept\"",
        "      }",
        "      say kept ;;",
        "    *) rt rm -f \"$name\" >/dev/null || fail 31 \"cannot remove the old container $name\" ;;",
        "  esac",
        "  " + run + " >/dev/null || fail 32 \"$runtime run exited with code $?\"",
        "fi");
    appendWait(script);
    VmSession session = VmSession.of(connector, target, context);
    return readiness.launch(
        session,
        "container " + spec.containerName(),
        script,
        context,
        code -> hint(code, target, configDir, DOWN_HINT),
        // Nothing set aside (a first start): the run's discard then costs no round trip.
        said -> session.keptAside(KEPT_CONTAINER, said.contains("kept")));
  }

  /**
   * Brings back the container that {@link #launch} kept stopped under the name {@code
   * NAME-vmonboard-previous}: copies the seed files of the (restored) bundle into the host
   * directories again, removes the failed container, renames the kept one back to its name, starts
   * it (with its own configuration, as it was created) and waits until it answers ready.
   *
   * @return false when no container was kept (the launch found none running)
   */
  @Override
  public boolean restorePrevious(Bundle bundle, Target target, StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    if (session.nothingKeptAside(KEPT_CONTAINER)) {
      return false;
    }
    ContainerLaunch spec = spec(bundle, context);
    ConfigDir dir = ConfigDir.of(target, context);
    String configDir = dir.path();
    RemoteScript script =
        starting(
            spec,
            dir,
            context,
            "rt inspect --format '{{.State.Status}}' \"$kept\" >/dev/null 2>&1 || { say none; exit"
                + " 0; }");
    appendRemoval(script, "name", "the failed container");
    script.lines(
        "rt rename \"$kept\" \"$name\" >/dev/null || fail 38 \"cannot rename $kept back to $name\"",
        "rt start \"$name\" >/dev/null || fail 38 \"$runtime start exited with code $?\"");
    appendWait(script);
    boolean restored =
        readiness
            .restore(
                session,
                "container " + spec.containerName(),
                script,
                context,
                code ->
                    hint(
                        code,
                        target,
                        configDir,
                        "the previous proxy container exited too: " + DOWN_HINT))
            .isPresent();
    session.releasedAside(KEPT_CONTAINER);
    return restored;
  }

  /** Removes the container kept for {@link #restorePrevious}; none kept is fine. */
  @Override
  public void discardPrevious(Bundle bundle, Target target, StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    if (session.nothingKeptAside(KEPT_CONTAINER)) {
      return;
    }
    ContainerLaunch spec = spec(bundle, context);
    RemoteScript script = script(spec, context);
    appendRemoval(script, "kept", "the kept container");
    script.lines("say discarded");
    runRemoval("remove the kept container " + spec.containerName() + KEPT, script, target, context);
    session.releasedAside(KEPT_CONTAINER);
  }

  /**
   * The start of a script that starts a container: the readiness probe (required), then {@code
   * checks} (lines that may end the script early), then the host directories prepared.
   */
  private RemoteScript starting(
      ContainerLaunch spec, ConfigDir dir, StageContext context, String... checks) {
    RemoteScript script = script(spec, dir, context);
    Readiness.defineProbe(script, true);
    script.lines(checks);
    appendPrepare(script, spec, dir);
    return script;
  }

  /**
   * Appends the preparation of the host directories ({@code <config dir><suffix>}), which the
   * container can write and so are hostile input: in the checked parent of the config directory
   * ({@code enter}, under the state directory's lock), each one must be missing (it is then made
   * {@code 0700} and recorded in the state directory as vmonboard's), or a directory of the SSH
   * user with mode {@code 0700} that vmonboard recorded (or an empty one, then recorded). Each seed
   * file is checked to be a plain file of the delivered bundle, copied into the owner-only state
   * directory, and renamed into the host directory ({@code mv -T}): a link, FIFO or file the
   * container left under that name is replaced, never written through; a directory there is an
   * error.
   */
  private static void appendPrepare(RemoteScript script, ContainerLaunch spec, ConfigDir dir) {
    if (spec.hostDirectories().isEmpty()) {
      return;
    }
    script.lines(
        "enter",
        "[ -d \"./$vstate\" ] || fail 41 \"there is no bundle of vmonboard in $dir: deliver it"
            + " first\"",
        "trap unlock EXIT",
        "lock");
    for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
      String name = Shell.quote(dir.base() + directory.suffix());
      script.lines(
          "h=" + name,
          "mine '" + VmPaths.OWNER_ONLY + "' \"./$h\"",
          "if [ -e \"./$h\" ]; then",
          "  made \"$h\" || [ -z \"$(ls -A -- \"./$h\")\" ] || fail 36 \"$parent/$h exists and"
              + " vmonboard did not make it: refusing to use it\"",
          "else",
          "  mkdir -m 0700 -- \"./$h\" || fail 36 \"cannot create $parent/$h\"",
          "fi",
          "made \"$h\" || printf '%s\\n' \"$h\" >> \"./$vstate/dirs\" || fail 36 'cannot record '\"$h\"");
      directory
          .seeds()
          .forEach(
              (source, file) ->
                  script.lines(
                      "plain \"./$base\"/" + Shell.quote(source),
                      "cp -- \"./$base\"/"
                          + Shell.quote(source)
                          + " \"./$vstate/seed\" && mv -f -T -- \"./$vstate/seed\" \"./$h\"/"
                          + Shell.quote(file)
                          + " || fail 36 \"cannot place \""
                          + Shell.quote(file)
                          + "\" in $parent/$h\""));
    }
    script.lines("unlock");
  }

  /** The wait until the container {@code $name} runs and answers ready, or exits. */
  private void appendWait(RemoteScript script) {
    readiness.appendWait(
        script,
        "container $name",
        "state="
            + stateOf("name")
            + " || state=missing;"
            + " case $state in created|restarting) state=starting ;; esac",
        "rt logs --tail 20 \"$name\" >&2 2>&1;"
            + " why=\" (exit code $(rt inspect --format '{{.State.ExitCode}}' \"$name\" 2>&1))\"");
  }

  /**
   * The status of the container named by the script variable {@code var}, as a command
   * substitution. The runtime's words are inline, not the {@code rt} function: the substitution
   * then runs the runtime in its own process, without one more fork.
   */
  private String stateOf(String var) {
    return "$("
        + Shell.join(prefix())
        + " inspect --format '{{.State.Status}}' \"$"
        + var
        + "\" 2>/dev/null)";
  }

  /** Removes the container named by the script variable {@code var}, if there is one. */
  private static void appendRemoval(RemoteScript script, String var, String what) {
    script.lines(
        "if rt inspect --format '{{.State.Status}}' \"$" + var + "\" >/dev/null 2>&1; then",
        "  rt rm -f \"$"
            + var
            + "\" >/dev/null || fail 31 \"cannot remove "
            + what
            + " $"
            + var
            + "\"",
        "fi");
  }

  /** Hint for the exit code of a script that starts a container. */
  private String hint(int code, Target target, String configDir, String down) {
    if (code == 36 || code == 20 || code == 21) {
      return "check that "
          + target.user().orElse("the SSH user")
          + " may create directories next to "
          + configDir
          + ", and remove what the message names if nobody else should have put it there";
    }
    if (code == 41) {
      return "deliver the bundle before starting the proxy";
    }
    if (code == 31 || code == 38) {
      return useHint();
    }
    return Readiness.hint(code, down);
  }

  private String useHint() {
    return "check that the SSH user may use " + runtime + (sudo ? " through sudo -n" : "");
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
        "state=" + stateOf("name") + " || {" + " say absent; exit 0; }",
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

  /**
   * Removes the container and a kept one, then each host directory that vmonboard recorded as made
   * by it (a directory of the SSH user, {@code 0700}); one it did not make is left, and the run
   * says so ({@link StageContext#progress}).
   */
  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {
    ContainerLaunch spec = spec(bundle, context);
    ConfigDir dir = ConfigDir.of(target, context);
    RemoteScript script = script(spec, dir, context);
    appendRemoval(script, "name", "container");
    appendRemoval(script, "kept", "the kept container");
    if (!spec.hostDirectories().isEmpty()) {
      script.lines(
          "if [ -d \"$parent\" ] && cd -P -- \"$parent\"; then",
          "  top=$PWD",
          "  trusted \"$parent\" \"$top\"",
          "  mine '" + VmPaths.OWNER_ONLY + "' \"./$vstate\"");
      for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
        script.lines(
            "  h=" + Shell.quote(dir.base() + directory.suffix()),
            "  if [ -e \"./$h\" ] || [ -L \"./$h\" ]; then",
            "    if made \"$h\"; then",
            "      mine '" + VmPaths.OWNER_ONLY + "' \"./$h\"",
            "      rm -rf -- \"./$h\" || fail 37 \"cannot delete $parent/$h\"",
            "    else",
            "      say \"left $parent/$h: vmonboard did not make it\"",
            "    fi",
            "  fi");
      }
      script.lines("fi");
    }
    script.lines("say removed");
    List<String> said =
        runRemoval("remove the proxy container " + spec.containerName(), script, target, context);
    Readiness.reportLeft(said, context);
  }

  /**
   * Runs a script that removes containers (and files), failing on any exit code but 0; returns what
   * it said.
   */
  private List<String> runRemoval(
      String what, RemoteScript script, Target target, StageContext context) {
    VmSession session = VmSession.of(connector, target, context);
    ExecResult result = session.run(what, script, Duration.ofMinutes(2), context);
    if (result.exitCode() != 0) {
      throw session.failure(what, result, context, false, useHint());
    }
    return result.stdoutText().strip().lines().toList();
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
    for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
      lines.add(
          "  create "
              + Shell.quote(directory.path(configDir))
              + " (0700, recorded as vmonboard's; an existing one only if vmonboard made it) and"
              + " rename into it, never writing through what is there: "
              + String.join(", ", directory.seeds().values()));
    }
    String name = Shell.quote(spec.containerName());
    String runtimeWords = Shell.join(prefix());
    lines.add("  " + runCommand(spec, configDir));
    lines.add(
        "  if that fails and "
            + name
            + " exists: if it runs, "
            + runtimeWords
            + " stop "
            + name
            + " and rename it "
            + Shell.quote(spec.containerName() + KEPT)
            + " (kept for a rollback), else "
            + runtimeWords
            + " rm -f "
            + name
            + "; then run again");
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
                + Shell.join(spec.containerName(), spec.containerName() + KEPT)
                + " (if present)"));
    for (ContainerLaunch.HostDirectory directory : spec.hostDirectories()) {
      lines.add(
          "  rm -rf -- "
              + Shell.quote(directory.path(configDir))
              + " (only if vmonboard recorded making it)");
    }
    return lines;
  }

  private RemoteScript script(ContainerLaunch spec, StageContext context) {
    return withNames(new RemoteScript(), spec, context);
  }

  /** A script with the names of {@code spec} and the path functions of {@code dir}. */
  private RemoteScript script(ContainerLaunch spec, ConfigDir dir, StageContext context) {
    return withNames(dir.script(), spec, context);
  }

  private RemoteScript withNames(RemoteScript script, ContainerLaunch spec, StageContext context) {
    return script
        .set("name", spec.containerName())
        .set("kept", spec.containerName() + KEPT)
        .set("runtime", runtime)
        .set("url", Readiness.checkUrl(spec.readinessUrl(), context))
        .function("rt", prefix());
  }

  /**
   * The runtime's {@code run} of {@code spec} as one command line with the runtime's words inline
   * (not the {@code rt} function), so that a command substitution runs it without one more fork.
   */
  private String runCommand(ContainerLaunch spec, String configDir) {
    List<String> words = new ArrayList<>(prefix());
    words.addAll(spec.runArguments(configDir));
    return Shell.join(words);
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
