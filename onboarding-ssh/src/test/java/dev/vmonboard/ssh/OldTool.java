package dev.vmonboard.ssh;

import dev.vmonboard.core.Bundle;
import dev.vmonboard.core.BundleFile;
import dev.vmonboard.core.ContainerLaunch;
import dev.vmonboard.core.Shell;
import dev.vmonboard.core.Target;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The existing tool's way to onboard one VM, the baseline of the benchmarks: one connection, then
 * one exec channel for {@code mkdir}, one {@code scp -t} per file, one for {@code docker rm -f} and
 * one for {@code docker run}: seven channels for a bundle of four files. No quoting of its own (the
 * benchmarks' values are safe), no atomicity, no readiness check.
 *
 * <p>It copies the same files as our transport, in its flat layout (the token as {@code
 * istio-token} next to the others), and starts the same container with its file mounts: the token
 * file and the root certificate mounted one by one instead of the token directory and the
 * certificate directory.
 */
final class OldTool {

  private static final Duration STEP_LIMIT = Duration.ofMinutes(1);

  private OldTool() {}

  /** Onboards {@code bundle} (with its token) at {@code target}; returns the channels used. */
  static int onboard(SshConnector connector, Target target, Bundle bundle) throws SshException {
    ContainerLaunch launch = oldLaunch(bundle);
    try (SshConnection c = connector.connect(target.host(), target.port(), null)) {
      check(
          c.exec("mkdir", "mkdir -p " + Shell.quote(target.configDir()), new byte[0], STEP_LIMIT));
      for (BundleFile file : bundle.files()) {
        ByteArrayOutputStream scp = new ByteArrayOutputStream();
        scp.writeBytes(
            String.format(
                    Locale.ROOT, "C%04o %d %s%n", file.mode(), file.size(), baseName(file.path()))
                .getBytes(StandardCharsets.UTF_8));
        scp.writeBytes(file.content());
        scp.write(0);
        check(
            c.exec(
                "scp", "scp -t " + Shell.quote(target.configDir()), scp.toByteArray(), STEP_LIMIT));
      }
      c.exec(
          "docker rm",
          "docker rm -f " + Shell.quote(launch.containerName()),
          new byte[0],
          STEP_LIMIT);
      List<String> run = new ArrayList<>(List.of("docker"));
      run.addAll(launch.runArguments(target.configDir()));
      check(c.exec("docker run", Shell.join(run), new byte[0], STEP_LIMIT));
      return c.channelsOpened();
    }
  }

  /** The old tool's launch: every bundle file mounted on its own, no host directories. */
  static ContainerLaunch oldLaunch(Bundle bundle) {
    ContainerLaunch ours = (ContainerLaunch) bundle.launch();
    List<ContainerLaunch.Mount> mounts = new ArrayList<>();
    for (ContainerLaunch.Mount mount : ours.mounts()) {
      if (bundle.tokenPath().startsWith(mount.source() + "/")) {
        String token = baseName(bundle.tokenPath());
        mounts.add(ContainerLaunch.Mount.of(token, mount.containerPath() + "/" + token, true));
      } else {
        mounts.add(
            ContainerLaunch.Mount.of(
                baseName(mount.source()), mount.containerPath(), mount.readOnly()));
      }
    }
    for (ContainerLaunch.HostDirectory directory : ours.hostDirectories()) {
      for (Map.Entry<String, String> seed : directory.seeds().entrySet()) {
        mounts.add(
            ContainerLaunch.Mount.of(
                seed.getKey(), directory.containerPath() + "/" + seed.getValue(), true));
      }
    }
    return ContainerLaunch.builder().from(ours).mounts(mounts).hostDirectories(List.of()).build();
  }

  private static String baseName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static void check(ExecResult result) {
    if (result.exitCode() != 0) {
      throw new IllegalStateException("old pattern step failed: " + result.lastErrorLines(3));
    }
  }
}
