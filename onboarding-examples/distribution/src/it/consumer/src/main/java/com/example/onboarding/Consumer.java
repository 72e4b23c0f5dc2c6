package com.example.onboarding;

import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.k8s.KubernetesCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.HostKeyPolicy;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshTransport;

/** A user's onboarding step, written against vmonboard's public API only. */
public final class Consumer {

  private Consumer() {}

  public static void main(String[] args) {
    try (KubernetesCluster cluster = KubernetesCluster.fromDefaultKubeconfig()) {
      SshConnector ssh =
          SshConnector.builder().hostKeyPolicy(HostKeyPolicy.defaultKnownHosts()).build();
      OnboardingPipeline pipeline =
          OnboardingPipeline.builder()
              .registrar(KubernetesRegistrar.create(cluster))
              .tokenIssuer(ServiceAccountTokenIssuer.create(cluster))
              .meshSource(KubernetesMeshDiscovery.create(cluster))
              .bundleFactory(ContainerBundleFactory.create())
              .transport(SshTransport.using(ssh))
              .launcher(ContainerProxyLauncher.builder(ssh).build())
              .build();
      System.out.println(pipeline.dryRun().onboard(WorkloadRef.parse(args[0], "default")));
    }
  }
}
