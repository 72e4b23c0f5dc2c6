package dev.vmonboard.ssh;

/**
 * Supplies an SSH login password when the server asks for one.
 *
 * <p>The SDK wipes the returned array after use and never logs it.
 */
@FunctionalInterface
public interface PasswordCallback {

  /**
   * Returns the password of {@code user} on {@code host}, or {@code null} to give up.
   *
   * @param user the login name
   * @param host the host as the connection names it ({@code host} or {@code [host]:port})
   */
  char[] passwordFor(String user, String host);
}
