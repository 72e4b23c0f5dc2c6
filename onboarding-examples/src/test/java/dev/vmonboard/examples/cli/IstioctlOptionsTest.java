package dev.vmonboard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * istioctl's options on {@code sidecar-bootstrap}: conflicting combinations end in one line and
 * exit code 2 before anything is read or written; WorkloadGroups get bundles without a host, and
 * SSH delivery of one without a host says what is missing.
 */
class IstioctlOptionsTest {

  @TempDir Path temp;

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "--internalIP 10.0.0.1 --externalIP 10.0.0.2 -a --style systemd | --internalIP and --externalIP are mutually exclusive",
        "--tokenDuration 3600 --duration 1h -a | --tokenDuration and --duration both set",
        "--tokenDuration 60 -a | below the 600 seconds",
        "--tokenDuration \u0667\u0662\u0660\u0660 -a | is not a whole number written in ASCII digits",
        "--tokenDuration +3600 -a | is not a whole number written in ASCII digits",
        "--clusterID east --style container -a | --clusterID shapes the files of istioctl's VM flow: it needs --style systemd",
        "--capture-dns=false --style container -a | --capture-dns shapes the files",
        "-f group.yaml --style container | only the systemd style bootstraps",
        "-f group.yaml web | drop the names and --all, or -f",
        "-f group.yaml --offboard | a WorkloadGroup from -f/--file is not registered",
        "--ingressIP gw.example.com -a | --ingressIP gw.example.com is not an IP address",
        "--internalIP 10.0.0.300 -a | internalIP",
        "--clusterID a;b -a | clusterID",
        "--revision-typo x -a | Unknown option"
      })
  void conflictsEndInOneLineWithExitCode2(String args, String message) {
    Run run = run(args.trim().split(" "));
    assertThat(run.code).as(run.err).isEqualTo(2);
    assertThat(run.err.strip().lines()).as(run.err).hasSize(1);
    assertThat(run.err).contains(message);
  }

  @Test
  void aGroupByNameGetsABundleWithoutAnAddress() throws Exception {
    Path out = temp.resolve("out");
    Run run =
        run(
            "web",
            "-n",
            "apps",
            "--style",
            "systemd",
            "-r",
            "canary",
            "-d",
            out.toString(),
            "--embedded-cluster",
            cluster("revision-from-cluster").toString());
    assertThat(run.code).as(run.err + run.out).isZero();
    assertThat(out.resolve("web.apps/etc/cluster.env")).exists();
    assertThat(out.resolve("web.apps/bin/start-istio-proxy.sh")).exists();
  }

  @Test
  void sshDeliveryOfAGroupWithoutHostSaysWhatIsMissing() throws Exception {
    Run run =
        run(
            "-a",
            "-n",
            "apps",
            "--style",
            "systemd",
            "-r",
            "canary",
            "--dry-run",
            "--embedded-cluster",
            cluster("revision-from-cluster").toString());
    assertThat(run.code).as(run.err + run.out).isEqualTo(1);
    assertThat(run.out)
        .contains("apps/web")
        .contains(
            "a WorkloadGroup has no address, so SSH delivery needs its"
                + " sidecar-bootstrap.istio.io/ssh-host annotation");
  }

  @Test
  void theContainerStyleLeavesGroupsOutOfAll() throws Exception {
    Run run =
        run(
            "-a",
            "-n",
            "apps",
            "-r",
            "canary",
            "--dry-run",
            "--embedded-cluster",
            cluster("revision-from-cluster").toString());
    assertThat(run.code).isEqualTo(2);
    assertThat(run.err).contains("namespace 'apps' has no WorkloadEntries");
  }

  private static Path cluster(String name) throws Exception {
    URL url = IstioctlOptionsTest.class.getResource("istioctl/" + name + "/cluster.yaml");
    return Path.of(url.toURI());
  }

  private Run run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      Files.writeString(temp.resolve("group.yaml"), "kind: WorkloadGroup\nmetadata:\n  name: g\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    all.replaceAll(arg -> arg.equals("group.yaml") ? temp.resolve("group.yaml").toString() : arg);
    int code =
        SidecarBootstrap.run(
            all.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            prompt -> null,
            temp.resolve("home"));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private record Run(int code, String out, String err) {}
}
