package dev.vmonboard.k8s;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mints service-account tokens as a Kubernetes API server does for the TokenRequest API: a JWT
 * signed with ES256 by a key of the embedded cluster, carrying the audiences, issue time, expiry
 * and the {@code system:serviceaccount:<ns>:<name>} subject.
 */
final class TokenMinter {

  static final String ISSUER = "https://kubernetes.default.svc.cluster.local";

  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private final KeyPair signingKey;
  private final String keyId;
  private final KubernetesSerialization json;

  TokenMinter(KeyPair signingKey, KubernetesSerialization json) {
    this.signingKey = signingKey;
    this.json = json;
    this.keyId =
        BASE64URL.encodeToString(java.util.Arrays.copyOf(signingKey.getPublic().getEncoded(), 16));
  }

  /** A signed token for {@code namespace/name} (uid {@code uid}) valid until {@code expiry}. */
  String mint(
      String namespace,
      String name,
      String uid,
      List<String> audiences,
      Instant issuedAt,
      Instant expiry) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", "ES256");
    header.put("kid", keyId);
    Map<String, Object> account = new LinkedHashMap<>();
    account.put("name", name);
    account.put("uid", uid);
    Map<String, Object> kubernetes = new LinkedHashMap<>();
    kubernetes.put("namespace", namespace);
    kubernetes.put("serviceaccount", account);
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("aud", audiences);
    claims.put("exp", expiry.getEpochSecond());
    claims.put("iat", issuedAt.getEpochSecond());
    claims.put("iss", ISSUER);
    claims.put("kubernetes.io", kubernetes);
    claims.put("nbf", issuedAt.getEpochSecond());
    claims.put("sub", "system:serviceaccount:" + namespace + ":" + name);
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
      signer.initSign(signingKey.getPrivate());
      signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + BASE64URL.encodeToString(signer.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a service-account token", e);
    }
  }

  private String encode(Map<String, Object> part) {
    return BASE64URL.encodeToString(json.asJson(part).getBytes(StandardCharsets.UTF_8));
  }
}
