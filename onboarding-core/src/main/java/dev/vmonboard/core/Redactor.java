package dev.vmonboard.core;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Defence in depth for one workload's run: once a token is issued, its secret is masked in every
 * message the pipeline produces (events, located failures), even if a stage implementation put it
 * in an exception message by mistake.
 */
final class Redactor {

  static final String MASK = "****";
  private static final int MIN_SECRET_LENGTH = 4;

  private final Set<String> secrets = new CopyOnWriteArraySet<>();

  void add(String secret) {
    if (secret != null && secret.length() >= MIN_SECRET_LENGTH) {
      secrets.add(secret);
    }
  }

  String redact(String text) {
    if (text == null || secrets.isEmpty()) {
      return text;
    }
    String result = text;
    for (String secret : secrets) {
      result = result.replace(secret, MASK);
    }
    return result;
  }

  boolean leaks(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null && !redact(message).equals(message)) {
        return true;
      }
    }
    return false;
  }

  /** The throwable itself, or, when its chain mentions a secret, a redacted stand-in for it. */
  Throwable sanitize(Throwable error) {
    if (error == null || !leaks(error)) {
      return error;
    }
    RedactedCause copy =
        new RedactedCause(error.getClass().getName() + ": " + redact(error.getMessage()));
    copy.setStackTrace(error.getStackTrace());
    return copy;
  }

  /** Replaces a cause whose message carried a secret. */
  static final class RedactedCause extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RedactedCause(String message) {
      super(message);
    }
  }
}
