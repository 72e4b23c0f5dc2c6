package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What to register for one VM: the workload itself and, when asked, what a real onboarding creates
 * around it (its ServiceAccount, a Service selecting it, a Sidecar). A {@link Registrar} creates or
 * updates all of it idempotently and marks what it created as its own.
 */
@Value.Immutable
@ValueStyle
public abstract class Registration {

  Registration() {}

  /** The workload to create or update. */
  public abstract Workload workload();

  /** Whether to create the workload's ServiceAccount when it does not exist. */
  @Value.Default
  public boolean createServiceAccount() {
    return false;
  }

  /** A Service selecting the workload, when one is wanted. */
  public abstract Optional<ServiceSpec> service();

  /** A Sidecar for the workload, when one is wanted. */
  public abstract Optional<SidecarSpec> sidecar();

  /** Registration of {@code workload} alone. */
  public static Registration of(Workload workload) {
    return builder().workload(workload).build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link Registration}s. */
  public static final class Builder extends ImmutableRegistration.Builder {
    Builder() {}
  }

  /** A Service whose selector matches the workload's labels. */
  @Value.Immutable
  @ValueStyle
  public abstract static class ServiceSpec {
    ServiceSpec() {}

    /** The Service's name; by default the workload's {@code app} label, else its name. */
    public abstract Optional<String> name();

    /** The selector; by default the workload's {@code app} label, else all its labels. */
    public abstract Map<String, String> selector();

    /** The ports. */
    public abstract List<ServicePort> ports();

    /** A builder. */
    public static Builder builder() {
      return new Builder();
    }

    /** Builds {@link ServiceSpec}s. */
    public static final class Builder extends ImmutableServiceSpec.Builder {
      Builder() {}
    }
  }

  /** One port of a {@link ServiceSpec}. */
  @Value.Immutable
  @ValueStyle
  public abstract static class ServicePort {
    ServicePort() {}

    /** The port's name, e.g. {@code http}; Istio reads the protocol from it. */
    @Value.Parameter
    public abstract String name();

    /** The Service port. */
    @Value.Parameter
    public abstract int port();

    /** The port on the VM; by default the same. */
    @Value.Parameter
    public abstract int targetPort();

    /** The transport protocol. */
    @Value.Default
    public String protocol() {
      return "TCP";
    }

    /** Port {@code port} named {@code name}, to the same port on the VM. */
    public static ServicePort of(String name, int port) {
      return ImmutableServicePort.of(name, port, port);
    }

    /** Port {@code port} named {@code name}, to {@code targetPort} on the VM. */
    public static ServicePort of(String name, int port, int targetPort) {
      return ImmutableServicePort.of(name, port, targetPort);
    }
  }

  /** A Sidecar resource for the workload: where inbound traffic goes and what it may reach. */
  @Value.Immutable
  @ValueStyle
  public abstract static class SidecarSpec {
    SidecarSpec() {}

    /** The Sidecar's name; by default the workload's name. */
    public abstract Optional<String> name();

    /** The workload selector; by default the workload's {@code app} label, else its labels. */
    public abstract Map<String, String> selector();

    /** Inbound listeners. */
    public abstract List<Ingress> ingress();

    /** Outbound listeners. */
    public abstract List<Egress> egress();

    /** A builder. */
    public static Builder builder() {
      return new Builder();
    }

    /** Builds {@link SidecarSpec}s. */
    public static final class Builder extends ImmutableSidecarSpec.Builder {
      Builder() {}
    }

    /** An inbound listener: a port and where its traffic is forwarded on the VM. */
    @Value.Immutable
    @ValueStyle
    public abstract static class Ingress {
      Ingress() {}

      /** The port number. */
      @Value.Parameter
      public abstract int port();

      /** The protocol, e.g. {@code HTTP}. */
      @Value.Parameter
      public abstract String protocol();

      /** The port's name, e.g. {@code http}. */
      @Value.Parameter
      public abstract String name();

      /** Where traffic goes, e.g. {@code 127.0.0.1:8888}. */
      @Value.Parameter
      public abstract String defaultEndpoint();

      /** An inbound listener. */
      public static Ingress of(int port, String protocol, String name, String defaultEndpoint) {
        return ImmutableIngress.of(port, protocol, name, defaultEndpoint);
      }
    }

    /** An outbound listener: a bind address and the hosts it may reach. */
    @Value.Immutable
    @ValueStyle
    public abstract static class Egress {
      Egress() {}

      /** The address the listener binds, e.g. {@code 127.0.0.2}. */
      public abstract Optional<String> bind();

      /** The hosts, e.g. {@code ./*}. */
      public abstract List<String> hosts();

      /** An outbound listener bound to {@code bind} for {@code hosts}. */
      public static Egress of(String bind, List<String> hosts) {
        return ImmutableEgress.builder().bind(bind).hosts(hosts).build();
      }

      /** An outbound listener on every address for {@code hosts}. */
      public static Egress of(List<String> hosts) {
        return ImmutableEgress.builder().hosts(hosts).build();
      }
    }
  }
}
