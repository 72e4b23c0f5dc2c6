package dev.vmonboard.core;

/**
 * What a {@link ProxyLauncher} must do to start the proxy of a {@link Bundle}: {@link
 * ContainerLaunch} (a container on the VM) or {@link SystemdLaunch} (the {@code istio-sidecar}
 * package under systemd). Launchers check which kind they receive and refuse others clearly.
 */
public interface LaunchSpec {

  /** The URL, on the VM, that answers 200 once the proxy is ready. */
  String readinessUrl();

  /** Istio's readiness URL, on the status port of the agent. */
  String DEFAULT_READINESS_URL = "http://localhost:15021/healthz/ready";
}
