package dev.vmonboard.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which control-plane addresses are cluster-local, and the names that make them resolve. */
class AddressesTest {

  @ParameterizedTest(name = "{0} is cluster-local: {1}")
  @CsvSource({
    "istiod, true",
    "istiod:15012, true",
    "istiod.istio-system, true",
    "zipkin.istio-system:9411, true",
    "istiod.istio-system.svc:15012, true",
    "istiod.istio-system.svc.cluster:15012, true",
    "istiod.istio-system.svc.cluster.local:15012, true",
    "istiod.istio-system.cluster:15012, false",
    "istiod.istio-system.svc.local, false",
    "istiod.istio-system.svc.cluster.remote, false",
    "istiod.example.com:15012, false",
    "a.b.svc.cluster.local.extra, false",
    "10.0.0.1:15012, false",
    "10.0.0.1, false",
    "[fd00::1]:15012, false",
    "fd00::1, false",
    "'', false",
    "bad name.ns, false",
  })
  void clusterLocal(String address, boolean expected) {
    assertThat(Addresses.isClusterLocal(address)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} has host {1} and port {2}")
  @CsvSource({
    "istiod.istio-system.svc:15012, istiod.istio-system.svc, 15012",
    "istiod, istiod, ''",
    "[fd00::1]:15012, fd00::1, 15012",
    "fd00::1, fd00::1, ''",
    "10.0.0.1:80, 10.0.0.1, 80",
  })
  void hostAndPort(String address, String host, String port) {
    assertThat(Addresses.host(address)).isEqualTo(host);
    assertThat(Addresses.port(address).orElse("")).isEqualTo(port);
  }

  @ParameterizedTest(name = "{0} from namespace {1} has aliases of {2}")
  @CsvSource({
    "istiod.istio-system.svc:15012, vm-apps, istiod.istio-system",
    "istiod.istio-system.svc.cluster.local:15012, vm-apps, istiod.istio-system",
    "zipkin:9411, vm-apps, zipkin.vm-apps",
  })
  void aliases(String address, String namespace, String base) {
    assertThat(Addresses.aliases(address, namespace))
        .isEqualTo(
            List.of(base, base + ".svc", base + ".svc.cluster", base + ".svc.cluster.local"));
  }

  @ParameterizedTest(name = "{0} on the gateway is {1}")
  @CsvSource({
    "istiod.istio-system.svc:15012, gw.example.com:15012",
    "metrics.monitoring, gw.example.com",
  })
  void onGateway(String address, String expected) {
    assertThat(Addresses.onGateway(address, "gw.example.com")).isEqualTo(expected);
  }
}
