package dev.vmonboard.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Istio's own VM flow, {@code istioctl x workload entry configure}, re-derived as golden cases of
 * {@code sidecar-bootstrap --style systemd}: each directory under {@code
 * src/test/resources/dev/vmonboard/examples/cli/istioctl} holds the cluster ({@code cluster.yaml},
 * served by the embedded API server), the command's arguments ({@code args}, one per line, with
 * istioctl's option names) and the files istioctl writes for those inputs ({@code cluster.env},
 * {@code mesh.yaml}, {@code hosts}), written from the rules of Istio's {@code
 * istioctl/pkg/workload/workload.go}. The cases {@code ipv4}, {@code ipv6} and {@code
 * nil-proxy-metadata} are Istio's own test cases ({@code testdata/vmconfig}); the others add a
 * revision read from the cluster, auto-registration, an external IP, DNS capture off and a gateway
 * with a host name.
 *
 * <p>Files are compared as their readers see them: {@code cluster.env} as the shell reads it (every
 * variable, sourced by {@code sh}), {@code mesh.yaml} as a YAML tree, {@code hosts} line by line.
 */
class IstioctlGoldenTest {

  private static final YAMLMapper YAML = YAMLMapper.builder().build();
  private static final Pattern VARIABLE =
      Pattern.compile("^([A-Za-z_][A-Za-z0-9_]*)=", Pattern.MULTILINE);

  @TempDir Path temp;

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "ipv4",
        "ipv6",
        "nil-proxy-metadata",
        "revision-from-cluster",
        "autoregister-external-ip",
        "capture-dns-off",
        "hostname-gateway"
      })
  void bundleHoldsWhatIstioctlWrites(String name) throws Exception {
    Path golden = golden(name);
    Path out = temp.resolve("out");
    List<String> args = new ArrayList<>();
    for (String line : Files.readAllLines(golden.resolve("args"))) {
      if (!line.isBlank()) {
        args.add(line.endsWith(".yaml") ? golden.resolve(line).toString() : line);
      }
    }
    args.addAll(
        List.of(
            "-d", out.toString(), "--embedded-cluster", golden.resolve("cluster.yaml").toString()));
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int code =
        SidecarBootstrap.run(
            args.toArray(String[]::new),
            new PrintStream(stdout, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8),
            prompt -> null,
            temp.resolve("home"));
    String output =
        stdout.toString(StandardCharsets.UTF_8) + stderr.toString(StandardCharsets.UTF_8);
    assertThat(code).as(output).isZero();
    assertThat(output).doesNotContainPattern(CliFixture.JWT);

    Path etc = onlyBundle(out).resolve("etc");
    assertThat(shellVariables(etc.resolve("cluster.env")))
        .as(name + ": cluster.env as the shell reads it")
        .isEqualTo(shellVariables(golden.resolve("cluster.env")));
    assertThat(YAML.readTree(etc.resolve("mesh.yaml").toFile()))
        .as(name + ": mesh.yaml as a YAML reader sees it")
        .isEqualTo(YAML.readTree(golden.resolve("mesh.yaml").toFile()));
    assertThat(Files.readAllLines(etc.resolve("hosts")))
        .as(name + ": hosts")
        .isEqualTo(Files.readAllLines(golden.resolve("hosts")));
    assertThat(Files.readString(etc.resolve("root-cert.pem")))
        .contains("-----BEGIN CERTIFICATE-----");
    assertThat(Files.getPosixFilePermissions(etc.resolve("istio-token")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    String token = Files.readString(etc.resolve("istio-token"));
    assertThat(token).startsWith("eyJ");
    // istioctl's token: audience istio-ca, one hour unless --tokenDuration says otherwise.
    tools.jackson.databind.JsonNode claims =
        YAML.readTree(
            new String(
                java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1]),
                StandardCharsets.UTF_8));
    assertThat(claims.get("aud").toString()).contains("istio-ca");
    assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(3600);
  }

  /** The one {@code NAME.NAMESPACE} directory written under {@code out}. */
  private static Path onlyBundle(Path out) throws IOException {
    try (Stream<Path> children = Files.list(out)) {
      List<Path> bundles = children.filter(Files::isDirectory).toList();
      assertThat(bundles).hasSize(1);
      return bundles.get(0);
    }
  }

  /**
   * Every variable {@code file} assigns, with the value {@code sh} gives it after sourcing the
   * file.
   */
  static Map<String, String> shellVariables(Path file) throws IOException, InterruptedException {
    Set<String> names = new LinkedHashSet<>();
    Matcher matcher = VARIABLE.matcher(Files.readString(file));
    while (matcher.find()) {
      names.add(matcher.group(1));
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "sh",
                "-c",
                ". \"$1\"; shift; for name in \"$@\"; do eval \"value=\\${$name}\";"
                    + " printf '%s=%s\\0' \"$name\" \"$value\"; done",
                "sh",
                file.toString()));
    command.addAll(names);
    Process shell =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String printed = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(shell.waitFor()).as("sh sourcing " + file).isZero();
    Map<String, String> variables = new TreeMap<>();
    for (String pair : printed.split("\0")) {
      if (!pair.isEmpty()) {
        int equals = pair.indexOf('=');
        variables.put(pair.substring(0, equals), pair.substring(equals + 1));
      }
    }
    assertThat(variables.keySet()).containsExactlyInAnyOrderElementsOf(names);
    return variables;
  }

  private static Path golden(String name) throws URISyntaxException {
    URL url = IstioctlGoldenTest.class.getResource("istioctl/" + name);
    assertThat(url).as("golden case " + name).isNotNull();
    return Path.of(url.toURI());
  }
}
