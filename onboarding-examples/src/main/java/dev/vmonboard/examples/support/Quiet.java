package dev.vmonboard.examples.support;

import java.util.logging.Level;
import java.util.logging.Logger;

/** Keeps the examples' terminal output to what they print themselves. */
public final class Quiet {

  /** Held so that the level set here is not lost when the logger is garbage-collected. */
  private static final Logger JUL_ROOT = Logger.getLogger("");

  private Quiet() {}

  /**
   * Silences java.util.logging below WARNING (the embedded API server logs every request at INFO),
   * unless a logging configuration file was given.
   */
  public static void javaUtilLogging() {
    if (System.getProperty("java.util.logging.config.file") == null) {
      JUL_ROOT.setLevel(Level.WARNING);
      for (var handler : JUL_ROOT.getHandlers()) {
        handler.setLevel(Level.WARNING);
      }
    }
  }
}
