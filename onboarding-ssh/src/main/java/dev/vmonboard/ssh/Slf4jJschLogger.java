package dev.vmonboard.ssh;

import com.jcraft.jsch.Logger;

/**
 * Routes JSch's own log lines to SLF4J (logger {@code com.jcraft.jsch}): its chatty INFO at DEBUG,
 * its warnings and errors as such.
 */
final class Slf4jJschLogger implements Logger {

  static final Slf4jJschLogger INSTANCE = new Slf4jJschLogger();

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("com.jcraft.jsch");

  private Slf4jJschLogger() {}

  @Override
  public boolean isEnabled(int level) {
    switch (level) {
      case DEBUG:
      case INFO:
        return LOG.isDebugEnabled();
      case WARN:
        return LOG.isWarnEnabled();
      default:
        return LOG.isErrorEnabled();
    }
  }

  @Override
  public void log(int level, String message) {
    log(level, message, null);
  }

  @Override
  public void log(int level, String message, Throwable cause) {
    switch (level) {
      case DEBUG:
      case INFO:
        LOG.debug(message, cause);
        break;
      case WARN:
        LOG.warn(message, cause);
        break;
      default:
        LOG.error(message, cause);
    }
  }
}
