package dev.vmonboard.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.UserInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a {@link HostKeyPolicy} to one connection attempt, as JSch's host key repository.
 *
 * <p>JSch runs with {@code StrictHostKeyChecking=yes}, so whatever this answers other than {@code
 * OK} ends the handshake; the reason (with fingerprints) is kept in {@link #rejection()} for the
 * error message. Entries are parsed by JSch's own {@code known_hosts} reader (hashed entries,
 * {@code [host]:port}); the files are read anew for every connection, so that keys recorded by
 * trust-on-first-use in one connection count for the next.
 */
final class HostKeyVerifier implements HostKeyRepository {

  private static final Logger LOG = LoggerFactory.getLogger(HostKeyVerifier.class);

  /** One lock per known_hosts file this JVM records keys into. */
  private static final ConcurrentMap<Path, Object> RECORD_LOCKS = new ConcurrentHashMap<>();

  private final HostKeyPolicy policy;
  private HostKeyRepository known;
  private volatile String rejection;

  HostKeyVerifier(HostKeyPolicy policy) throws IOException {
    this.policy = policy;
    this.known = load(policy.files());
  }

  /** Why the host key was refused, with fingerprints; {@code null} if it was not. */
  String rejection() {
    return rejection;
  }

  @Override
  public int check(String host, byte[] key) {
    String presented = KeyBlobs.fingerprint(key) + " (" + KeyBlobs.type(key) + ")";
    int verdict = known.check(host, key);
    if (verdict == OK) {
      return OK;
    }
    List<String> recorded = recordedFingerprints(host);
    if (verdict == CHANGED || !recorded.isEmpty()) {
      rejection =
          "the host key of "
              + host
              + " has CHANGED: expected "
              + String.join(" or ", recorded)
              + ", presented "
              + presented
              + " (known_hosts: "
              + policy.files()
              + "). Refused: this is either a man-in-the-middle attack or a reinstalled VM. If"
              + " you know the VM was reinstalled, remove the old entry (ssh-keygen -R '"
              + host
              + "' -f FILE) and connect again";
      return CHANGED;
    }
    switch (policy.kind()) {
      case TRUST_ON_FIRST_USE:
        return record(host, key, presented);
      case INSECURE_ACCEPT_ANY:
        LOG.warn(
            "Accepting the unverified host key {} of {} (policy InsecureAcceptAny): the"
                + " connection is open to a man in the middle",
            presented,
            host);
        return OK;
      default:
        rejection =
            "the host key of "
                + host
                + " is unknown: presented "
                + presented
                + ", not in "
                + policy.files()
                + ". Refused by policy KnownHosts. Check the fingerprint out of band and add the"
                + " key (ssh-keyscan -p PORT HOST >> FILE), or choose"
                + " HostKeyPolicy.trustOnFirstUse(FILE)";
        return NOT_INCLUDED;
    }
  }

  private List<String> recordedFingerprints(String host) {
    List<String> result = new ArrayList<>();
    for (HostKey entry : known.getHostKey(host, null)) {
      byte[] blob = Base64.getDecoder().decode(entry.getKey());
      result.add(KeyBlobs.fingerprint(blob) + " (" + entry.getType() + ")");
    }
    return result;
  }

  private int record(String host, byte[] key, String presented) {
    Path file = policy.files().get(0).toAbsolutePath().normalize();
    synchronized (RECORD_LOCKS.computeIfAbsent(file, f -> new Object())) {
      try {
        // Another connection of this JVM or another process may have recorded the host meanwhile.
        known = load(List.of(file));
        int again = known.check(host, key);
        if (again == OK) {
          return OK;
        }
        if (again == CHANGED || !recordedFingerprints(host).isEmpty()) {
          return check(host, key);
        }
        append(file, host + " " + KeyBlobs.type(key) + " " + base64(key) + "\n");
        LOG.info("Trusting {} on first use: recorded host key {} in {}", host, presented, file);
        return OK;
      } catch (IOException e) {
        rejection =
            "the host key of "
                + host
                + " could not be recorded in "
                + file
                + " (trust on first use): "
                + e.getMessage();
        return NOT_INCLUDED;
      }
    }
  }

  private static String base64(byte[] key) {
    return Base64.getEncoder().encodeToString(key);
  }

  private static void append(Path file, String line) throws IOException {
    Path parent = file.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      Files.createDirectories(
          parent,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    try (FileChannel channel =
        FileChannel.open(
            file,
            java.util.Set.of(
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      FileLock lock = channel.lock();
      try {
        if (channel.size() > 0 && !endsWithNewline(file)) {
          channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
        }
        channel.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
      } finally {
        lock.release();
      }
    }
  }

  private static boolean endsWithNewline(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    return all.length == 0 || all[all.length - 1] == '\n';
  }

  private static HostKeyRepository load(List<Path> files) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (Path file : files) {
      if (Files.isRegularFile(file)) {
        all.write(Files.readAllBytes(file));
        all.write('\n');
      }
    }
    JSch reader = new JSch();
    reader.setInstanceLogger(Slf4jJschLogger.INSTANCE);
    try {
      reader.setKnownHosts(new ByteArrayInputStream(all.toByteArray()));
    } catch (JSchException e) {
      throw new IOException("unreadable known_hosts " + files + ": " + e.getMessage(), e);
    }
    return reader.getHostKeyRepository();
  }

  @Override
  public void add(HostKey hostkey, UserInfo ui) {
    // Never called with StrictHostKeyChecking=yes; recording is this class's own decision.
  }

  @Override
  public void remove(String host, String type) {
    throw new UnsupportedOperationException("host keys are never removed by the SDK");
  }

  @Override
  public void remove(String host, String type, byte[] key) {
    throw new UnsupportedOperationException("host keys are never removed by the SDK");
  }

  @Override
  public String getKnownHostsRepositoryID() {
    return policy.toString();
  }

  @Override
  public HostKey[] getHostKey() {
    return known.getHostKey();
  }

  @Override
  public HostKey[] getHostKey(String host, String type) {
    return known.getHostKey(host, type);
  }
}
