package dev.vmonboard.ssh;

import java.io.IOException;

/**
 * An SSH connection or remote command failed.
 *
 * <p>The message names the host and says what to do; it never contains a secret (token, key,
 * passphrase, password) nor the content of a transferred file. {@link #isTransient()} tells whether
 * trying again later may help (a refused or dropped connection, a timeout) or not (a refused host
 * key, a failed login, a remote command that failed).
 */
public final class SshException extends IOException {

  private static final long serialVersionUID = 1L;

  private final String host;
  private final boolean transientFailure;

  SshException(String host, String message, boolean transientFailure, Throwable cause) {
    super(message, cause);
    this.host = host;
    this.transientFailure = transientFailure;
  }

  SshException(String host, String message, boolean transientFailure) {
    this(host, message, transientFailure, null);
  }

  /** The host as the connection names it: {@code user@host:port}. */
  public String host() {
    return host;
  }

  /** Whether trying again later may succeed. */
  public boolean isTransient() {
    return transientFailure;
  }
}
