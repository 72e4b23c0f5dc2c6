package dev.vmonboard.ssh;

import com.jcraft.jsch.Logger;

/**
 * Routes JSch's own log lines to SLF4J (logger {@code com.jcraft.jsch}). Everything but FATAL goes
 * to DEBUG: JSch logs as errors what the SDK reports itself, with context, as an {@link
 * SshException} (a wrong passphrase is JSch's "failed to parse key" with a stack trace).
 */
final class Slf4jJschLogger implements Logger {

  static final Slf4jJschLogger INSTANCE = new Slf4jJschLogger();

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("com.jcraft.jsch");

  private Slf4jJschLogger() {}

  @Override
  public boolean isEnabled(int level) {
    switch (level) {
      case FATAL:
        return LOG.isErrorEnabled();
      default:
        return LOG.isDebugEnabled();
    }
  }

  @Override
  public void log(int level, String message) {
    log(level, message, null);
  }

  @Override
  public void log(int level, String message, Throwable cause) {
    switch (level) {
      case FATAL:
        LOG.error(message, cause);
        break;
      default:
        LOG.debug(message, cause);
    }
  }
}
