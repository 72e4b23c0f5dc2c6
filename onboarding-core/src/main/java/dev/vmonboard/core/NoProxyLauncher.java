package dev.vmonboard.core;

import java.util.List;

/** {@link ProxyLauncher#none()}: the proxy is left for someone else to start. */
enum NoProxyLauncher implements ProxyLauncher {
  INSTANCE;

  @Override
  public ProxyStatus launch(Bundle bundle, Target target, StageContext context) {
    return ProxyStatus.of(ProxyStatus.State.NOT_STARTED, "not started: the pipeline only delivers");
  }

  @Override
  public ProxyStatus status(Bundle bundle, Target target, StageContext context) {
    return ProxyStatus.of(ProxyStatus.State.NOT_STARTED, "not managed by this pipeline");
  }

  @Override
  public void remove(Bundle bundle, Target target, StageContext context) {}

  @Override
  public List<String> describeLaunch(Bundle bundle, Target target) {
    return List.of("do not start the proxy (deliver only)");
  }

  @Override
  public List<String> describeRemoval(Bundle bundle, Target target) {
    return List.of("leave the proxy alone (deliver only)");
  }
}
