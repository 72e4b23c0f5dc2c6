package dev.vmonboard.core.testing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A canary secret: plant it in tokens, then check that no output (log line, event, exception
 * message, {@code toString()}, dry-run plan) contains it. Other secrets a test meets (a token a
 * real issuer returned) can be {@linkplain #watch(String) watched} too: every check here, and
 * {@link NoSecretsInOutput}, looks for them as well.
 */
public final class Canary {

  /** The canary; every {@link InMemoryTokenIssuer} secret starts with it by default. */
  public static final String SECRET = "canary-5e3f9b1c-secret";

  private static final Set<String> WATCHED = ConcurrentHashMap.newKeySet();

  private Canary() {}

  /**
   * Looks for {@code secret} too, from now on, in every check of this JVM (values shorter than 8
   * characters are ignored: they would match by chance).
   */
  public static void watch(String secret) {
    if (secret != null && secret.length() >= 8) {
      WATCHED.add(secret);
    }
  }

  /**
   * Where {@code text} holds the canary or a watched secret, each described without repeating the
   * secret ("the canary at character 12"); empty when it holds none.
   */
  public static List<String> found(String text) {
    List<String> found = new ArrayList<>();
    if (text == null) {
      return found;
    }
    int canary = text.indexOf(SECRET);
    if (canary >= 0) {
      found.add("the canary at character " + canary);
    }
    for (String secret : WATCHED) {
      int at = text.indexOf(secret);
      if (at >= 0 && !secret.contains(SECRET)) {
        found.add("a watched secret at character " + at);
      }
    }
    return found;
  }

  /**
   * Throws when {@code text} contains the canary.
   *
   * @param where what the text is, for the message (e.g. "event StageFailed")
   */
  public static void assertAbsent(String where, String text) {
    List<String> found = found(text);
    if (!found.isEmpty()) {
      throw new AssertionError("a secret leaked into " + where + ": " + found);
    }
  }

  /** Throws when any of {@code texts} contains the canary. */
  public static void assertAbsent(String where, Collection<?> texts) {
    for (Object text : texts) {
      assertAbsent(where, String.valueOf(text));
    }
  }

  /** Throws when the message of {@code error} or of any of its causes contains the canary. */
  public static void assertAbsent(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      assertAbsent("exception " + t.getClass().getName(), t.getMessage());
      assertAbsent("exception " + t.getClass().getName() + " toString", t.toString());
    }
  }
}
