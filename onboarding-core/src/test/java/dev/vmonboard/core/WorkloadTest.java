package dev.vmonboard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WorkloadTest {

  @Test
  void aCompleteWorkloadIsValid() {
    Workload vm = Fixtures.vm("ns", "vm", "10.0.0.4");

    assertThat(vm.validate()).isSameAs(vm);
  }

  @Test
  void refusesAnAddressThatIsNeitherIpNorDnsName() {
    Workload vm = Fixtures.vm("ns", "vm", "10.0.0.4;reboot");

    assertThatThrownBy(vm::validate)
        .hasMessageContaining("spec.address")
        .hasMessageContaining("neither an IP address nor a DNS name");
  }

  @Test
  void refusesInvalidLabelsNamingTheKey() {
    Workload vm =
        Fixtures.vm("ns", "vm", "10.0.0.4").toBuilder()
            .putLabels("app", "a b")
            .putLabels("bad key!", "x")
            .build();

    assertThatThrownBy(vm::validate)
        .isInstanceOfSatisfying(
            InvalidInputException.class,
            e ->
                assertThat(e.problems())
                    .extracting(Problem::field)
                    .containsExactlyInAnyOrder("spec.labels.app", "spec.labels"));
  }

  @Test
  void aGroupNeedsNoAddress() {
    Workload group =
        Workload.builder(WorkloadRef.of("ns", "group"))
            .kind(Workload.Kind.WORKLOAD_GROUP)
            .serviceAccount("vm-sa")
            .build();

    assertThat(group.validate()).isSameAs(group);
  }

  @Test
  void acceptsIpv6AndDnsAddresses() {
    assertThat(Fixtures.vm("ns", "a", "fd00::4").validate()).isNotNull();
    assertThat(Fixtures.vm("ns", "b", "vm-1.example.com").validate()).isNotNull();
  }
}
