package dev.vmonboard.examples.ownpipeline;

import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.StageException;
import dev.vmonboard.core.TokenIssuer;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A replaced stage 2: a {@link TokenIssuer} that reads each VM's token from a file instead of
 * asking the TokenRequest API, for hosts where tokens are minted elsewhere (a CI job, a vault, an
 * operator running {@code kubectl create token vm-sa -n NS --audience istio-ca --duration 1h}).
 *
 * <p>One file per workload, {@code <dir>/<name>.<namespace>.token}, never one shared by every VM.
 * The token must be a JWT: its {@code exp} claim is the expiry the pipeline records, and its {@code
 * aud} claim must hold the audience the pipeline asks for. A missing, expired or foreign token is
 * refused with the file's name and what to run, never with the token. Thread-safe.
 */
public final class FileTokenIssuer implements TokenIssuer {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Path directory;
  private final Clock clock;

  private FileTokenIssuer(Path directory, Clock clock) {
    this.directory = directory;
    this.clock = clock;
  }

  /** Reads tokens from {@code directory}. */
  public static FileTokenIssuer inDirectory(Path directory) {
    return new FileTokenIssuer(directory, Clock.systemUTC());
  }

  /** Reads tokens from {@code directory}, judging expiry by {@code clock}. */
  static FileTokenIssuer inDirectory(Path directory, Clock clock) {
    return new FileTokenIssuer(directory, clock);
  }

  /** The file that holds {@code workload}'s token. */
  public Path fileOf(Workload workload) {
    return directory.resolve(workload.name() + "." + workload.namespace() + ".token");
  }

  @Override
  public BootstrapToken issue(Workload workload, TokenRequest request) {
    Path file = fileOf(workload);
    String mint =
        "kubectl create token "
            + workload.serviceAccount().orElse("SERVICE_ACCOUNT")
            + " -n "
            + workload.namespace()
            + " --audience "
            + request.audience()
            + " --duration 1h > "
            + file;
    String secret;
    try {
      secret = Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (NoSuchFileException e) {
      throw new NotFoundException("no token file " + file + " for " + workload.ref(), mint);
    } catch (IOException e) {
      throw StageException.transientFailure("cannot read " + file + ": " + e, null, e);
    }
    JsonNode claims = claims(secret, file);
    Instant expiresAt = Instant.ofEpochSecond(claims.path("exp").asLong(0));
    if (!expiresAt.isAfter(clock.instant())) {
      throw StageException.permanent(
          "the token in " + file + " expired at " + expiresAt, "mint a new one: " + mint);
    }
    if (!audiences(claims).contains(request.audience())) {
      throw StageException.permanent(
          "the token in "
              + file
              + " is for audience "
              + audiences(claims)
              + ", not "
              + request.audience(),
          "mint it with --audience " + request.audience() + ": " + mint);
    }
    return BootstrapToken.of(secret, request.audience(), expiresAt);
  }

  @Override
  public List<String> describe(Workload workload, TokenRequest request) {
    return List.of(
        "read the token of "
            + workload.ref()
            + " from "
            + fileOf(workload)
            + " (a JWT for audience "
            + request.audience()
            + ")");
  }

  /** The JWT's claims, without checking its signature (the mesh's CA does that). */
  private static JsonNode claims(String secret, Path file) {
    String[] parts = secret.split("\\.");
    try {
      if (parts.length != 3) {
        throw new IllegalArgumentException("not three parts");
      }
      JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
      if (!claims.isObject()) {
        throw new IllegalArgumentException("claims are not an object");
      }
      return claims;
    } catch (IllegalArgumentException | JacksonException e) {
      throw StageException.permanent(
          file + " does not hold a JWT", "write the output of kubectl create token to it");
    }
  }

  private static List<String> audiences(JsonNode claims) {
    JsonNode aud = claims.path("aud");
    if (aud.isString()) {
      return List.of(aud.asString());
    }
    return aud.valueStream().map(JsonNode::asString).toList();
  }

  @Override
  public String toString() {
    return "FileTokenIssuer[" + directory + "]";
  }
}
