package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * Starting the proxy as a container on the VM (the {@code sidecar-bootstrap} style): name, image,
 * restart policy, host network, mounts of bundle files, host directories, environment file, host
 * aliases and the proxy's arguments. {@link #runArguments(String)} renders the runtime's {@code
 * run} arguments, the same for every launcher and for the offline start script.
 *
 * <p>A launcher runs, in order: it prepares the {@linkplain #hostDirectories() host directories}
 * (created owner-only, never through a link or into a directory others can write, each seed file
 * renamed into place: the launcher's own script does this, by the path rule of the threat model),
 * then the runtime with {@link #runArguments(String)}, with any old container of that name set
 * aside first (the SSH launcher does so only when the run finds the name taken: it stops a running
 * one and keeps it under another name for a rollback, removes any other, and runs again). When it
 * removes the proxy for good, it also deletes the host directories ({@link
 * HostDirectory#path(String)}).
 */
@Value.Immutable
@ValueStyle
public abstract class ContainerLaunch implements LaunchSpec {

  ContainerLaunch() {}

  /** The container's name, unique per proxy on one VM. */
  public abstract String containerName();

  /** The image, e.g. {@code docker.io/istio/proxyv2:1.9.0}. */
  public abstract String image();

  /** The restart policy. */
  @Value.Default
  public String restartPolicy() {
    return "unless-stopped";
  }

  /** Whether the container shares the VM's network namespace. */
  @Value.Default
  public boolean hostNetwork() {
    return true;
  }

  /** The mounts, in order. */
  public abstract List<Mount> mounts();

  /**
   * Directories on the VM that outlive deliveries (which replace the config directory whole), each
   * mounted read-write into the container, e.g. where the agent keeps its renewed certificates.
   */
  public abstract List<HostDirectory> hostDirectories();

  /** The environment file, relative to the config directory ({@code sidecar.env}). */
  public abstract Optional<String> envFile();

  /** {@code --add-host} entries, each host name once. */
  public abstract List<HostAlias> hostAliases();

  /** The arguments after the image, e.g. {@code proxy sidecar --serviceCluster ...}. */
  public abstract List<String> args();

  @Override
  @Value.Default
  public String readinessUrl() {
    return DEFAULT_READINESS_URL;
  }

  /**
   * The runtime's arguments after its binary: {@code run -d --name N --restart R --network host -v
   * SRC:DST[:ro] ... -v HOSTDIR:DST ... --env-file F --add-host H:IP ... IMAGE ARGS...}, with
   * bundle-relative paths resolved against {@code configDir}. Not quoted: pass them through {@link
   * Shell#join(List)}.
   */
  public final List<String> runArguments(String configDir) {
    List<String> words = new ArrayList<>();
    words.add("run");
    words.add("-d");
    words.add("--name");
    words.add(containerName());
    words.add("--restart");
    words.add(restartPolicy());
    if (hostNetwork()) {
      words.add("--network");
      words.add("host");
    }
    for (Mount mount : mounts()) {
      words.add("-v");
      words.add(
          resolve(configDir, mount.source())
              + ":"
              + mount.containerPath()
              + (mount.readOnly() ? ":ro" : ""));
    }
    for (HostDirectory directory : hostDirectories()) {
      words.add("-v");
      words.add(directory.path(configDir) + ":" + directory.containerPath());
    }
    envFile()
        .ifPresent(
            file -> {
              words.add("--env-file");
              words.add(resolve(configDir, file));
            });
    for (HostAlias alias : hostAliases()) {
      words.add("--add-host");
      words.add(alias.hostname() + ":" + alias.ip());
    }
    words.add(image());
    words.addAll(args());
    return words;
  }

  /** A path on the VM: absolute paths stay, relative ones are taken from {@code configDir}. */
  public static String resolve(String configDir, String path) {
    if (path.startsWith("/")) {
      return path;
    }
    return configDir.endsWith("/") ? configDir + path : configDir + "/" + path;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link ContainerLaunch}es. */
  public static final class Builder extends ImmutableContainerLaunch.Builder {
    Builder() {}
  }

  /**
   * A mount: a path on the VM (relative to the config directory, or absolute) into the container.
   */
  @Value.Immutable
  @ValueStyle
  public abstract static class Mount {
    Mount() {}

    /** The path on the VM; relative paths are taken from the config directory. */
    @Value.Parameter
    public abstract String source();

    /** The path inside the container. */
    @Value.Parameter
    public abstract String containerPath();

    /** Whether the container may only read it. */
    @Value.Parameter
    public abstract boolean readOnly();

    /** A mount of {@code source} at {@code containerPath}. */
    public static Mount of(String source, String containerPath, boolean readOnly) {
      return ImmutableMount.of(source, containerPath, readOnly);
    }
  }

  /**
   * A directory on the VM next to the config directory ({@code <config dir><suffix>}, e.g. {@code
   * /tmp/istio-proxy-certs}), so that replacing the config directory leaves it alone. The launcher
   * creates it owner-only and copies the seed files in before every start (the agent may overwrite
   * them later); it is mounted read-write at {@link #containerPath()}.
   */
  @Value.Immutable
  @ValueStyle
  public abstract static class HostDirectory {
    HostDirectory() {}

    /** Appended to the config directory's path to name this one, e.g. {@code -certs}. */
    public abstract String suffix();

    /** The path inside the container, e.g. {@code /var/run/secrets/istio}. */
    public abstract String containerPath();

    /**
     * Bundle files copied in before every start: bundle-relative source to file name inside the
     * directory, e.g. {@code istio-ca.pem} to {@code root-cert.pem}.
     */
    public abstract Map<String, String> seeds();

    /** The directory on the VM for a bundle delivered to {@code configDir}. */
    public final String path(String configDir) {
      String base = configDir;
      while (base.length() > 1 && base.endsWith("/")) {
        base = base.substring(0, base.length() - 1);
      }
      return base + suffix();
    }

    /** A directory named {@code <config dir><suffix>} mounted at {@code containerPath}. */
    public static HostDirectory of(String suffix, String containerPath, Map<String, String> seeds) {
      return ImmutableHostDirectory.builder()
          .suffix(suffix)
          .containerPath(containerPath)
          .putAllSeeds(seeds)
          .build();
    }

    @Value.Check
    void check() {
      if (!suffix().matches("[-._A-Za-z0-9]+")) {
        throw new IllegalArgumentException(
            "host directory suffix must be letters, digits, '-', '.' or '_'");
      }
      for (Map.Entry<String, String> seed : seeds().entrySet()) {
        if (!BundleFile.isSafeRelativePath(seed.getKey())
            || !BundleFile.isSafeRelativePath(seed.getValue())
            || seed.getValue().contains("/")) {
          throw new IllegalArgumentException(
              "host directory seed must name a bundle file and a plain file name");
        }
      }
    }
  }

  /** One {@code --add-host} entry: a host name resolved to an IP inside the container. */
  @Value.Immutable
  @ValueStyle
  public abstract static class HostAlias {
    HostAlias() {}

    /** The name, e.g. {@code istiod.istio-system.svc}. */
    @Value.Parameter
    public abstract String hostname();

    /** The IP it resolves to. */
    @Value.Parameter
    public abstract String ip();

    /** {@code hostname} resolving to {@code ip}. */
    public static HostAlias of(String hostname, String ip) {
      return ImmutableHostAlias.of(hostname, ip);
    }
  }
}
