package dev.vmonboard.ssh;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a connection decides whether to trust the key a server presents.
 *
 * <p>Whatever the policy, a key that differs from the one recorded for that host in a consulted
 * {@code known_hosts} file is always refused, and the error shows the expected and the presented
 * SHA256 fingerprints. The policies differ in what they do with a host they know nothing about:
 *
 * <ul>
 *   <li>{@link #knownHosts(Path, Path...)} (the default, with {@code ~/.ssh/known_hosts}): refuse.
 *   <li>{@link #trustOnFirstUse(Path)}: accept and record the key in the named file, so that every
 *       later connection is checked against it.
 *   <li>{@link #insecureAcceptAny()}: accept without recording and log a warning with the
 *       fingerprint. For throwaway test machines only: it cannot notice a man in the middle.
 * </ul>
 *
 * {@code known_hosts} files are read as OpenSSH writes them: hashed entries ({@code ssh-keygen -H})
 * and {@code [host]:port} entries for ports other than 22 are understood.
 */
public final class HostKeyPolicy {

  enum Kind {
    KNOWN_HOSTS("KnownHosts"),
    TRUST_ON_FIRST_USE("TrustOnFirstUse"),
    INSECURE_ACCEPT_ANY("InsecureAcceptAny");

    final String displayName;

    Kind(String displayName) {
      this.displayName = displayName;
    }
  }

  private final Kind kind;
  private final List<Path> files;

  private HostKeyPolicy(Kind kind, List<Path> files) {
    this.kind = kind;
    this.files = List.copyOf(files);
  }

  /** Strict checking against {@code ~/.ssh/known_hosts}: the default. */
  public static HostKeyPolicy defaultKnownHosts() {
    return knownHosts(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"));
  }

  /** Strict checking against these files: unknown hosts and changed keys are refused. */
  public static HostKeyPolicy knownHosts(Path file, Path... more) {
    List<Path> all = new ArrayList<>();
    all.add(Objects.requireNonNull(file, "file"));
    all.addAll(List.of(more));
    return new HostKeyPolicy(Kind.KNOWN_HOSTS, all);
  }

  /**
   * Trust on first use: a host not in {@code file} is accepted and its key appended to {@code file}
   * (created owner-only if missing); a host in it must present the recorded key.
   */
  public static HostKeyPolicy trustOnFirstUse(Path file) {
    return new HostKeyPolicy(Kind.TRUST_ON_FIRST_USE, List.of(Objects.requireNonNull(file)));
  }

  /**
   * Accepts any host key, logging a warning with its fingerprint. Insecure: for throwaway test
   * machines only.
   */
  public static HostKeyPolicy insecureAcceptAny() {
    return new HostKeyPolicy(Kind.INSECURE_ACCEPT_ANY, List.of());
  }

  Kind kind() {
    return kind;
  }

  List<Path> files() {
    return files;
  }

  @Override
  public String toString() {
    return files.isEmpty() ? kind.displayName : kind.displayName + files;
  }
}
