package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * Starting the proxy as a container on the VM (the {@code sidecar-bootstrap} style): name, image,
 * restart policy, host network, mounts of bundle files, environment file, host aliases and the
 * proxy's arguments. {@link #runArguments(String)} renders the runtime's {@code run} arguments, the
 * same for every launcher and for the offline start script.
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
   * SRC:DST[:ro] ... --env-file F --add-host H:IP ... IMAGE ARGS...}, with bundle-relative paths
   * resolved against {@code configDir}. Not quoted: pass them through {@link Shell#join(List)}.
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
