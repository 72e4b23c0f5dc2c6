package dev.vmonboard.reliability;

import dev.vmonboard.core.testing.Canary;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The secrets no output may contain: the {@link Canary}, every token the embedded cluster issued in
 * this JVM (registered by {@link Rig#canaryTokens}), and the first bytes of any token the embedded
 * cluster signs (its JWT header, base64url of <code>{"alg":"ES256","kid":</code>), which also finds
 * a token that was cut short.
 */
final class SecretWatch {

  /** Base64url of <code>{"alg":"ES256","kid":"</code>: how every token of the cluster starts. */
  static final String JWT_HEADER = "eyJhbGciOiJFUzI1NiIsImtpZCI6";

  private static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();

  static {
    SECRETS.add(Canary.SECRET);
    SECRETS.add(JWT_HEADER);
  }

  private SecretWatch() {}

  /** Adds a secret to look for. */
  static void watch(String secret) {
    if (secret != null && secret.length() >= 8) {
      SECRETS.add(secret);
    }
  }

  /** The watched secrets found in {@code text}, described without repeating them. */
  static List<String> found(String text) {
    List<String> found = new ArrayList<>();
    if (text == null) {
      return found;
    }
    for (String secret : SECRETS) {
      int at = text.indexOf(secret);
      if (at >= 0) {
        found.add(
            (secret.equals(Canary.SECRET)
                    ? "the canary"
                    : secret.equals(JWT_HEADER) ? "a token's JWT header" : "an issued token")
                + " at character "
                + at);
      }
    }
    return found;
  }

  /** Fails when {@code text} holds a watched secret; {@code where} names the output. */
  static void assertAbsent(String where, String text) {
    List<String> found = found(text);
    if (!found.isEmpty()) {
      throw new AssertionError("a secret leaked into " + where + ": " + found);
    }
  }

  /** Fails when the message or {@code toString()} of {@code error} or a cause holds a secret. */
  static void assertAbsent(String where, Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      assertAbsent(where + " (" + t.getClass().getName() + ")", t.toString());
      for (StackTraceElement frame : t.getStackTrace()) {
        assertAbsent(where + " stack", frame.toString());
      }
    }
  }
}
