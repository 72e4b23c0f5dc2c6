package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.List;
import org.immutables.value.Value;

/**
 * Starting the proxy of the {@code istio-sidecar} package under systemd (Istio's own flow): where
 * each bundle file is installed, with which owner and mode, then which service to start.
 */
@Value.Immutable
@ValueStyle
public abstract class SystemdLaunch implements LaunchSpec {

  SystemdLaunch() {}

  /** The files to install, in order. */
  public abstract List<FileInstall> installs();

  /** The systemd unit to enable and start. */
  @Value.Default
  public String serviceName() {
    return "istio";
  }

  @Override
  @Value.Default
  public String readinessUrl() {
    return DEFAULT_READINESS_URL;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link SystemdLaunch}es. */
  public static final class Builder extends ImmutableSystemdLaunch.Builder {
    Builder() {}
  }

  /** One file to install: a bundle file copied (or appended) to an absolute path on the VM. */
  @Value.Immutable
  @ValueStyle
  public abstract static class FileInstall {
    FileInstall() {}

    /** The bundle file, by its relative path. */
    public abstract String source();

    /** The absolute destination on the VM, e.g. {@code /var/lib/istio/envoy/cluster.env}. */
    public abstract String destination();

    /** The owning user, e.g. {@code istio-proxy}. */
    @Value.Default
    public String owner() {
      return "istio-proxy";
    }

    /** The owning group. */
    @Value.Default
    public String group() {
      return "istio-proxy";
    }

    /** The POSIX mode. */
    public abstract int mode();

    /** Whether the content is appended (once) instead of replacing, as for {@code /etc/hosts}. */
    @Value.Default
    public boolean append() {
      return false;
    }

    /** A builder. */
    public static Builder builder() {
      return new Builder();
    }

    /** Builds {@link FileInstall}s. */
    public static final class Builder extends ImmutableFileInstall.Builder {
      Builder() {}
    }
  }
}
