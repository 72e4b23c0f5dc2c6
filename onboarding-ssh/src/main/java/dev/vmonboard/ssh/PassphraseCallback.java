package dev.vmonboard.ssh;

/**
 * Supplies the passphrase of an encrypted private key when the SDK first needs it.
 *
 * <p>The SDK never takes a passphrase as a string option or a command-line argument. It calls this
 * once per key and connector, wipes the returned array after use, and never logs it.
 */
@FunctionalInterface
public interface PassphraseCallback {

  /**
   * Returns the passphrase of the named key, or {@code null} to give up (the connection then fails
   * with a clear error).
   *
   * @param keyName the key's file name or the name it was given
   */
  char[] passphraseFor(String keyName);
}
