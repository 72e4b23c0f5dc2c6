package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.immutables.value.Value;

/**
 * Everything one VM's proxy needs: files (relative path, mode, bytes, secret flag) and what the
 * launcher must run.
 *
 * <p>A {@link BundleFactory} builds the bundle without the token; the pipeline adds it with {@link
 * #withToken(BootstrapToken)} right before delivery, so that planning, hashing and dry runs never
 * touch a secret. {@link #contentHash()} covers every file but secrets, and the launch.
 */
@Value.Immutable
@ValueStyle
public abstract class Bundle {

  Bundle() {}

  /** The workload the bundle is for. */
  public abstract WorkloadRef workload();

  /** The files, in a stable order. */
  public abstract List<BundleFile> files();

  /** What the launcher must run. */
  public abstract LaunchSpec launch();

  /** Where the token goes, relative to the bundle's root (e.g. {@code istio-token}). */
  public abstract String tokenPath();

  /** The file at {@code path}, if the bundle has one. */
  public final Optional<BundleFile> file(String path) {
    return files().stream().filter(file -> file.path().equals(path)).findFirst();
  }

  /** Whether the token has been added. */
  public final boolean hasToken() {
    return file(tokenPath()).isPresent();
  }

  /** This bundle with {@code token} written to {@link #tokenPath()} (mode 0600, secret). */
  public final Bundle withToken(BootstrapToken token) {
    return withFile(BundleFile.secret(tokenPath(), token.secretBytes()));
  }

  /**
   * This bundle with {@code record} written to {@value BootstrapRecord#FILE}. The record is not
   * part of the content hash.
   */
  public final Bundle withRecord(BootstrapRecord record) {
    return withFile(record.toFile());
  }

  /** The bootstrap record the bundle carries, as its file. */
  public final Optional<BundleFile> recordFile() {
    return file(BootstrapRecord.FILE);
  }

  private Bundle withFile(BundleFile added) {
    List<BundleFile> files = new ArrayList<>();
    for (BundleFile file : files()) {
      if (!file.path().equals(added.path())) {
        files.add(file);
      }
    }
    files.add(added);
    return ImmutableBundle.builder().from(this).files(files).build();
  }

  /**
   * SHA-256 (hex) of every non-secret file (path, mode, content) and of the launch description, the
   * bootstrap record excluded: equal hashes mean the VM would receive the same configuration apart
   * from the token.
   */
  @Value.Lazy
  public String contentHash() {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      files().stream()
          .filter(file -> !file.secret() && !file.path().equals(BootstrapRecord.FILE))
          .sorted((a, b) -> a.path().compareTo(b.path()))
          .forEach(
              file -> {
                digest.update(file.path().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(file.octalMode().getBytes(StandardCharsets.US_ASCII));
                digest.update((byte) 0);
                digest.update(file.content());
                digest.update((byte) 0);
              });
      digest.update(launch().toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  /** One line per file, {@code 0644 sidecar.env (1234 bytes)}; secrets show as redacted. */
  public final List<String> manifest() {
    List<String> lines = new ArrayList<>();
    for (BundleFile file : files()) {
      lines.add(
          file.octalMode()
              + " "
              + file.path()
              + (file.secret() ? " (secret, redacted)" : " (" + file.size() + " bytes)"));
    }
    if (!hasToken()) {
      lines.add(
          BundleFile.octal(BundleFile.SECRET_MODE)
              + " "
              + tokenPath()
              + " (bootstrap token, redacted)");
    }
    return lines;
  }

  @Value.Check
  void check() {
    Set<String> paths = new HashSet<>();
    for (BundleFile file : files()) {
      if (!paths.add(file.path())) {
        throw new IllegalArgumentException("bundle has two files at " + file.path());
      }
      if (file.path().equals(tokenPath()) && !file.secret()) {
        throw new IllegalArgumentException("the token file " + tokenPath() + " must be secret");
      }
    }
    if (!BundleFile.isSafeRelativePath(tokenPath())) {
      throw new IllegalArgumentException("token path must be a safe relative path");
    }
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link Bundle}s. */
  public static final class Builder extends ImmutableBundle.Builder {
    Builder() {}
  }

  @Override
  public String toString() {
    return "Bundle{" + workload() + ", files=" + files() + ", launch=" + launch() + "}";
  }
}
