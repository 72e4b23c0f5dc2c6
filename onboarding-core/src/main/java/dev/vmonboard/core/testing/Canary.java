package dev.vmonboard.core.testing;

import java.util.Collection;

/**
 * A canary secret: plant it in tokens, then check that no output (log line, event, exception
 * message, {@code toString()}, dry-run plan) contains it.
 */
public final class Canary {

  /** The canary; every {@link InMemoryTokenIssuer} secret starts with it by default. */
  public static final String SECRET = "canary-5e3f9b1c-secret";

  private Canary() {}

  /**
   * Throws when {@code text} contains the canary.
   *
   * @param where what the text is, for the message (e.g. "event StageFailed")
   */
  public static void assertAbsent(String where, String text) {
    if (text != null && text.contains(SECRET)) {
      throw new AssertionError("the canary secret leaked into " + where);
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
