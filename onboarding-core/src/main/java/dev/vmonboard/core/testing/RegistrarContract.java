package dev.vmonboard.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vmonboard.core.BootstrapRecord;
import dev.vmonboard.core.NotFoundException;
import dev.vmonboard.core.Registrar;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.core.WorkloadSelector;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Registrar} must have, as JUnit tests: extend this class, give it the
 * registrar under test and, if it needs one, a namespace prepared for workloads. The SDK runs it
 * against its in-memory and Kubernetes registrars.
 */
public abstract class RegistrarContract {

  /** The registrar under test. */
  protected abstract Registrar registrar();

  /** A namespace the workloads of one test live in; must exist if the registrar needs it. */
  protected String namespace() {
    return "contract";
  }

  /**
   * A complete workload named {@code name} in {@link #namespace()}, its {@code app} label both on
   * the spec and on the metadata (selectors match metadata labels).
   */
  protected Workload workload(String name, String address) {
    return Workload.builder(WorkloadRef.of(namespace(), name))
        .address(address)
        .serviceAccount("vm-sa")
        .putLabels("app", name)
        .putLabels("class", "vm")
        .putMetadataLabels("app", name)
        .build();
  }

  @Test
  void resolvesWhatItRegistered() {
    Workload workload = workload("vm-a", "10.0.0.1");

    registrar().register(Registration.of(workload));

    Workload resolved = registrar().resolve(workload.ref());
    assertThat(resolved.ref()).isEqualTo(workload.ref());
    assertThat(resolved.address()).isEqualTo(workload.address());
    assertThat(resolved.serviceAccount()).isEqualTo(workload.serviceAccount());
    assertThat(resolved.labels()).containsAllEntriesOf(workload.labels());
  }

  @Test
  void registeringTwiceLeavesOneWorkload() {
    Workload workload = workload("vm-b", "10.0.0.2");

    registrar().register(Registration.of(workload));
    registrar().register(Registration.of(workload));

    assertThat(registrar().list(WorkloadSelector.inNamespace(namespace())))
        .extracting(Workload::ref)
        .containsOnlyOnce(workload.ref());
  }

  @Test
  void anUpdateReplacesTheAddress() {
    Workload workload = workload("vm-c", "10.0.0.3");
    registrar().register(Registration.of(workload));

    registrar().register(Registration.of(workload.toBuilder().address("10.0.0.33").build()));

    assertThat(registrar().resolve(workload.ref()).address()).contains("10.0.0.33");
  }

  @Test
  void resolvingAnUnknownWorkloadIsNotFound() {
    assertThatThrownBy(() -> registrar().resolve(WorkloadRef.of(namespace(), "never-registered")))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("never-registered");
  }

  @Test
  void listsANamespaceAndALabelSelection() {
    Workload first = workload("vm-d", "10.0.0.4");
    Workload second = workload("vm-e", "10.0.0.5");
    registrar().register(Registration.of(first));
    registrar().register(Registration.of(second));

    assertThat(registrar().list(WorkloadSelector.inNamespace(namespace())))
        .extracting(Workload::ref)
        .contains(first.ref(), second.ref());
    assertThat(registrar().list(WorkloadSelector.inNamespace(namespace()).withLabels("app=vm-e")))
        .extracting(Workload::ref)
        .containsExactly(second.ref());
  }

  @Test
  void deregisterDeletesAndSaysWhenNothingWasLeft() {
    Workload workload = workload("vm-f", "10.0.0.6");
    registrar().register(Registration.of(workload));

    assertThat(registrar().deregister(workload.ref())).isTrue();
    assertThat(registrar().deregister(workload.ref())).isFalse();
    assertThatThrownBy(() -> registrar().resolve(workload.ref()))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void keepsTheBootstrapRecordOnTheWorkload() {
    Workload workload = workload("vm-g", "10.0.0.7");
    registrar().register(Registration.of(workload));
    BootstrapRecord record =
        BootstrapRecord.of(
            "abc123", Instant.parse("2026-11-25T12:00:00Z"), Instant.parse("2026-11-26T12:00:00Z"));

    registrar().recordBootstrap(workload.ref(), record);

    assertThat(BootstrapRecord.fromAnnotations(registrar().resolve(workload.ref()).annotations()))
        .contains(record);
  }

  @Test
  void describingARegistrationChangesNothing() {
    Workload workload = workload("vm-h", "10.0.0.8");

    assertThat(registrar().describeRegistration(Registration.of(workload))).isNotEmpty();

    assertThatThrownBy(() -> registrar().resolve(workload.ref()))
        .isInstanceOf(NotFoundException.class);
  }
}
