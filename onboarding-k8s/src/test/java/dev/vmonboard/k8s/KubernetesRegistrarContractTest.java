package dev.vmonboard.k8s;

import dev.vmonboard.core.Registrar;
import dev.vmonboard.core.testing.RegistrarContract;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** {@link KubernetesRegistrar} against the embedded cluster passes the registrar contract. */
class KubernetesRegistrarContractTest extends RegistrarContract {

  private EmbeddedIstioCluster cluster;
  private KubernetesRegistrar registrar;

  @BeforeEach
  void start() {
    cluster = EmbeddedIstioCluster.start();
    cluster
        .client()
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace()).endMetadata().build())
        .create();
    cluster
        .client()
        .serviceAccounts()
        .inNamespace(namespace())
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("vm-sa").endMetadata().build())
        .create();
    registrar = KubernetesRegistrar.create(cluster.cluster());
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Override
  protected Registrar registrar() {
    return registrar;
  }
}
