package dev.vmonboard.examples.ownpipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTokenIssuerTest {

  static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");
  static final TokenRequest REQUEST = TokenRequest.of("istio-ca", Duration.ofHours(1));
  static final Workload VM =
      Workload.builder(WorkloadRef.of("vms", "backend-vm"))
          .address("10.0.0.21")
          .serviceAccount("vm-sa")
          .build();

  @TempDir Path dir;

  FileTokenIssuer issuer() {
    return FileTokenIssuer.inDirectory(dir, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  static String jwt(String claims) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"ES256\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8))
        + ".c2lnbmF0dXJlLXNlY3JldA";
  }

  void write(String token) throws Exception {
    Files.writeString(dir.resolve("backend-vm.vms.token"), token + "\n");
  }

  @Test
  void readsTheWorkloadsOwnFileAndTakesTheExpiryFromTheToken() throws Exception {
    long exp = NOW.plusSeconds(3600).getEpochSecond();
    String token = jwt("{\"aud\":[\"istio-ca\"],\"exp\":" + exp + "}");
    write(token);

    BootstrapToken issued = issuer().issue(VM, REQUEST);

    assertThat(issued.secret()).isEqualTo(token);
    assertThat(issued.expiresAt()).isEqualTo(Instant.ofEpochSecond(exp));
    assertThat(issued.toString()).doesNotContain(token);
    assertThat(issuer().describe(VM, REQUEST))
        .singleElement()
        .asString()
        .contains(dir.resolve("backend-vm.vms.token").toString());
  }

  @Test
  void refusesAMissingFileWithTheCommandThatMintsIt() {
    assertThatThrownBy(() -> issuer().issue(VM, REQUEST))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("no token file " + dir.resolve("backend-vm.vms.token"))
        .extracting(e -> ((StageException) e).hint().orElseThrow())
        .asString()
        .contains("kubectl create token vm-sa -n vms --audience istio-ca");
  }

  @Test
  void refusesAnExpiredTokenWithoutPrintingIt() throws Exception {
    String token =
        jwt("{\"aud\":\"istio-ca\",\"exp\":" + NOW.minusSeconds(1).getEpochSecond() + "}");
    write(token);

    assertThatThrownBy(() -> issuer().issue(VM, REQUEST))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("expired at 2026-01-01T09:59:59Z")
        .hasMessageNotContaining(token);
  }

  @Test
  void refusesATokenForAnotherAudience() throws Exception {
    write(jwt("{\"aud\":[\"kubernetes\"],\"exp\":" + NOW.plusSeconds(60).getEpochSecond() + "}"));

    assertThatThrownBy(() -> issuer().issue(VM, REQUEST))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("is for audience [kubernetes], not istio-ca");
  }

  @Test
  void refusesWhatIsNotAJwt() throws Exception {
    write("not-a-token");

    assertThatThrownBy(() -> issuer().issue(VM, REQUEST))
        .isInstanceOf(StageException.class)
        .hasMessageContaining("does not hold a JWT")
        .hasMessageNotContaining("not-a-token");
  }
}
