package dev.vmonboard.ssh;

import dev.vmonboard.core.ProxyStatus;
import dev.vmonboard.core.StageContext;
import dev.vmonboard.core.StageException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.regex.Pattern;

/**
 * The readiness check both launchers run on the VM: the proxy's URL polled with {@code curl} or
 * {@code wget}, whichever the VM has, until it answers or a deadline passes, in the same channel
 * that started the proxy.
 */
final class Readiness {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Readiness.class);

  private static final Pattern URL =
      Pattern.compile("https?://[A-Za-z0-9.\\[\\]:-]+(/[A-Za-z0-9._~/%?=&-]*)?");

  private final Duration timeout;
  private final Duration interval;

  Readiness(Duration timeout, Duration interval) {
    if (timeout.isNegative() || timeout.isZero() || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("readiness timeout and interval must be positive");
    }
    this.timeout = timeout;
    this.interval = interval;
  }

  Duration timeout() {
    return timeout;
  }

  /** The exec limit of a launch: the readiness timeout plus time to pull and start. */
  Duration execLimit() {
    return timeout.plusMinutes(5);
  }

  /** Refuses a readiness URL that is not a plain http(s) URL. */
  static String checkUrl(String url, StageContext context) {
    if (!URL.matcher(url).matches()) {
      throw StageException.permanent(
          "the readiness URL of "
              + context.workload()
              + " is not a plain http(s) URL: '"
              + RemoteScript.printable(url)
              + "'",
          "use a URL such as http://localhost:15021/healthz/ready");
    }
    return url;
  }

  /**
   * Defines {@code probe} (a GET of {@code $url}); when the VM has neither curl nor wget, fails
   * with code 33 if {@code required}, else makes {@code probe} answer 2.
   */
  static void defineProbe(RemoteScript script, boolean required) {
    script.lines(
        "if command -v curl >/dev/null 2>&1; then",
        "  probe() { curl -fsS -o /dev/null --max-time 2 \"$url\"; }",
        "elif command -v wget >/dev/null 2>&1; then",
        "  probe() { wget -q -O /dev/null -T 2 \"$url\"; }",
        "else",
        required
            ? "  fail 33 'neither curl nor wget is installed on the VM: cannot check readiness'"
            : "  probe() { return 2; }",
        "fi");
  }

  /**
   * Appends the wait loop. {@code stateCheck} sets {@code $state} to {@code running}, {@code
   * starting} or anything else (the proxy is down); {@code whenDown} prints diagnostics to stderr
   * and sets {@code $why}. Prints {@code ready PROBES} and exits 0 once ready; fails with 34 when
   * the proxy is down, 35 when it is not ready in time.
   */
  void appendWait(RemoteScript script, String what, String stateCheck, String whenDown) {
    long attempts = Math.max(1, timeout.toMillis() / interval.toMillis());
    String sleep = String.format(Locale.ROOT, "%.3f", interval.toMillis() / 1000.0);
    long wholeSeconds = Math.max(1, interval.toSeconds());
    script.lines(
        "i=0",
        "while :; do",
        "  " + stateCheck,
        "  case $state in",
        "    running) if probe >/dev/null 2>&1; then say \"ready $i\"; exit 0; fi ;;",
        "    starting) ;;",
        "    *) why=''; " + whenDown + "; fail 34 \"" + what + " is $state$why\" ;;",
        "  esac",
        "  i=$((i + 1))",
        "  [ \"$i\" -lt "
            + attempts
            + " ] || fail 35 \""
            + what
            + " runs but $url did not answer"
            + " ready within "
            + timeout.toSeconds()
            + " s\"",
        "  sleep " + sleep + " 2>/dev/null || sleep " + wholeSeconds,
        "done");
  }

  /**
   * Runs a launch script (which ends with {@link #appendWait}) in one channel and returns the ready
   * status, or throws with the script's exit code, stderr tail and {@code hint}.
   */
  ProxyStatus launch(
      VmSession session,
      String what,
      RemoteScript script,
      StageContext context,
      IntFunction<String> hint) {
    return launch(session, what, script, context, hint, said -> {});
  }

  /**
   * As {@link #launch(VmSession, String, RemoteScript, StageContext, IntFunction)}, and hands the
   * lines the script said before {@code ready} (such as {@code kept}) to {@code said}.
   */
  ProxyStatus launch(
      VmSession session,
      String what,
      RemoteScript script,
      StageContext context,
      IntFunction<String> hint,
      Consumer<List<String>> said) {
    return start(session, "start the proxy ", "starting ", what, script, context, hint, said)
        .orElseThrow();
  }

  /**
   * Runs a script that brings back the previous proxy and waits for it as {@link #launch} does (it
   * ends with {@link #appendWait}, unless it says {@code none} first: there was no previous proxy).
   *
   * @return the ready status, or empty when there was no previous proxy
   */
  Optional<ProxyStatus> restore(
      VmSession session,
      String what,
      RemoteScript script,
      StageContext context,
      IntFunction<String> hint) {
    return start(
        session,
        "restore the previous proxy ",
        "restoring the previous proxy ",
        what,
        script,
        context,
        hint,
        said -> {});
  }

  private Optional<ProxyStatus> start(
      VmSession session,
      String task,
      String doing,
      String what,
      RemoteScript script,
      StageContext context,
      IntFunction<String> hint,
      Consumer<List<String>> said) {
    long started = System.nanoTime();
    context.progress(doing + what + " and waiting until it answers ready");
    ExecResult result = session.run(task + what, script, execLimit(), context);
    List<String> lines = result.stdoutText().strip().lines().toList();
    if (result.exitCode() != 0) {
      // What the script did before it failed (such as setting the old proxy aside) still counts.
      said.accept(lines);
      throw session.failure(task + what, result, context, false, hint.apply(result.exitCode()));
    }
    String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    if (last.equals("none")) {
      return Optional.empty();
    }
    said.accept(lines.subList(0, Math.max(0, lines.size() - 1)));
    return Optional.of(ready(what, last, started));
  }

  /** Runs a status script and returns its output; a failure is transient. */
  static String query(VmSession session, RemoteScript script, StageContext context) {
    String task = "read the proxy's status";
    ExecResult result = session.run(task, script, Duration.ofMinutes(1), context);
    if (result.exitCode() != 0) {
      throw session.failure(task, result, context, true, null);
    }
    return result.stdoutText().strip();
  }

  /**
   * Reports each {@code left PATH: WHY} line a removal script said: what it did not delete because
   * vmonboard did not make it (or it changed since), as progress of the stage and a warning in the
   * log.
   */
  static void reportLeft(List<String> said, StageContext context) {
    for (String line : said) {
      if (line.startsWith("left ")) {
        LOG.warn("{}: {}", context.workload(), line);
        context.progress(line);
      }
    }
  }

  /** The status of a successful launch from its output ({@code ready N}). */
  private static ProxyStatus ready(String what, String out, long startedNanos) {
    String probes = out.startsWith("ready ") ? out.substring(6).strip() : "";
    int count = probes.matches("\\d{1,9}") ? Integer.parseInt(probes) + 1 : 1;
    long millis = (System.nanoTime() - startedNanos) / 1_000_000;
    return ProxyStatus.of(
        ProxyStatus.State.READY, what + " ready after " + count + " probe(s), " + millis + " ms");
  }

  /** Hint for a launch script's exit code. */
  static String hint(int exitCode, String down) {
    switch (exitCode) {
      case 33:
        return "install curl or wget on the VM";
      case 34:
        return down;
      case 35:
        return "look at the proxy's logs on the VM; raise the readiness timeout if it is slow";
      default:
        return null;
    }
  }
}
