package dev.vmonboard.examples.ownpipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Runs the own-pipeline example end to end, as the README's command does. */
class OwnPipelineTest {

  @TempDir Path dir;

  @Test
  void writesOneArchiveWithABundlePerVmAndPrintsJsonEvents() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        OwnPipeline.run(
            new String[] {dir.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    String json = out.toString(StandardCharsets.UTF_8);
    String text = err.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text).isZero();
    JsonMapper mapper = JsonMapper.builder().build();
    List<JsonNode> events = json.lines().map(mapper::readTree).toList();
    assertThat(events).allMatch(event -> event.has("event") && event.has("at"));
    assertThat(events)
        .filteredOn(event -> event.get("event").asString().equals("workload-finished"))
        .extracting(
            event -> event.get("workload").asString() + " " + event.get("outcome").asString())
        .containsExactlyInAnyOrder(
            "vmonboard-own/backend-vm SUCCEEDED", "vmonboard-own/frontend-vm SUCCEEDED");

    List<String> listing = OwnPipeline.listing(dir.resolve(OwnPipeline.ARCHIVE));
    for (String vm : List.of("backend-vm", "frontend-vm")) {
      assertThat(listing)
          .anyMatch(
              line -> line.matches("0600 +\\d+ " + vm + ".vmonboard-own/etc/tokens/istio-token"))
          .anyMatch(line -> line.matches("0644 +\\d+ " + vm + ".vmonboard-own/etc/sidecar.env"))
          .anyMatch(
              line -> line.matches("0755 +\\d+ " + vm + ".vmonboard-own/bin/start-istio-proxy.sh"));
      String token =
          Files.readString(dir.resolve("tokens").resolve(vm + ".vmonboard-own.token")).strip();
      assertThat(json + text).doesNotContain(token);
    }
    assertThat(text).contains("own pipeline: 2 VMs onboarded into " + dir.resolve("bundles.tgz"));
  }
}
