package dev.vmonboard.k8s.controller;

import dev.vmonboard.core.ProxyLauncher;
import dev.vmonboard.core.Transport;
import java.util.Objects;

/**
 * The VM side of the controller's pipeline, chosen by its caller: how bundles reach VMs and how
 * proxies start there (for example {@code SshTransport} and {@code ContainerProxyLauncher} from
 * {@code onboarding-ssh}, or the in-memory stages of core's test kit).
 */
public final class VmStages {

  private final Transport transport;
  private final ProxyLauncher launcher;

  private VmStages(Transport transport, ProxyLauncher launcher) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.launcher = Objects.requireNonNull(launcher, "launcher");
  }

  /** The transport and launcher the controller's pipeline uses. */
  public static VmStages of(Transport transport, ProxyLauncher launcher) {
    return new VmStages(transport, launcher);
  }

  /** Delivers bundles to VMs. */
  public Transport transport() {
    return transport;
  }

  /** Starts, checks and removes proxies on VMs. */
  public ProxyLauncher launcher() {
    return launcher;
  }

  @Override
  public String toString() {
    return "VmStages[" + transport + ", " + launcher + "]";
  }
}
