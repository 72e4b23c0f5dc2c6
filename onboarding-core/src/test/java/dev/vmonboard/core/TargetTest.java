package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TargetTest {

  private static Workload.Builder vm() {
    return Fixtures.vm("ns", "backend-vm", "10.0.0.4").toBuilder();
  }

  @Test
  void usesTheAddressAndTheCallersDefaultsWhenAnnotationsSayNothing() {
    Target target =
        Target.resolve(vm().build(), TargetDefaults.builder().user("ec2-user").port(2222).build());

    assertThat(target.host()).isEqualTo("10.0.0.4");
    assertThat(target.port()).isEqualTo(2222);
    assertThat(target.user()).contains("ec2-user");
    assertThat(target.configDir()).isEqualTo("/tmp/istio-proxy");
  }

  @Test
  void annotationsWinOverDefaults() {
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.SSH_HOST.key(), "vm.example.com")
            .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), "2200")
            .putAnnotations(BootstrapAnnotation.SSH_USER.key(), "centos")
            .putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), "/etc/istio-proxy/")
            .putAnnotations(BootstrapAnnotation.SCP_PATH.key(), "/bin/scp")
            .build();

    Target target =
        Target.resolve(workload, TargetDefaults.builder().user("ec2-user").port(22).build());

    assertThat(target)
        .hasToString("centos@vm.example.com:2200 /etc/istio-proxy")
        .satisfies(t -> assertThat(t.options()).containsEntry("scp-path", "/bin/scp"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "relative/dir",
        "/etc/../root",
        "/etc/./x",
        "/etc//x",
        "/",
        "/etc/istio\nproxy",
        "/etc/istio\u0000proxy"
      })
  void refusesAConfigDirectoryThatIsNotAnAbsoluteNormalisedPath(String dir) {
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), dir).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("ns/backend-vm")
        .hasMessageContaining(BootstrapAnnotation.PROXY_CONFIG_DIR.key());
  }

  @Test
  void acceptsShellMetacharactersInTheConfigDirectoryBecauseEveryUseIsQuoted() {
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), "/tmp/a b;$(x)").build();

    assertThat(Target.resolve(workload, TargetDefaults.standard()).configDir())
        .isEqualTo("/tmp/a b;$(x)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "65536", "22;reboot", "", "abc"})
  void refusesAPortOutOfRange(String port) {
    Workload workload = vm().putAnnotations(BootstrapAnnotation.SSH_PORT.key(), port).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .hasMessageContaining(BootstrapAnnotation.SSH_PORT.key())
        .hasMessageContaining("not a port number");
  }

  @ParameterizedTest
  @ValueSource(strings = {"host;reboot", "$(id)", "a b", "-oProxyCommand=x", "10.0.0.300"})
  void refusesAHostThatIsNeitherAnIpNorADnsName(String host) {
    Workload workload = vm().putAnnotations(BootstrapAnnotation.SSH_HOST.key(), host).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .hasMessageContaining(BootstrapAnnotation.SSH_HOST.key());
  }

  @ParameterizedTest
  @ValueSource(strings = {"root;id", "-l", "a b", "$(id)"})
  void refusesAUserThatIsNotAUserName(String user) {
    Workload workload = vm().putAnnotations(BootstrapAnnotation.SSH_USER.key(), user).build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .hasMessageContaining(BootstrapAnnotation.SSH_USER.key());
  }

  @Test
  void reportsEveryProblemAtOnce() {
    Workload workload =
        vm().putAnnotations(BootstrapAnnotation.SSH_USER.key(), "a b")
            .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), "0")
            .putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), "rel")
            .build();

    assertThatThrownBy(() -> Target.resolve(workload, TargetDefaults.standard()))
        .isInstanceOfSatisfying(
            InvalidInputException.class, e -> assertThat(e.problems()).hasSize(3));
  }
}
