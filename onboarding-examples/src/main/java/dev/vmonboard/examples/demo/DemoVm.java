package dev.vmonboard.examples.demo;

import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.Registration;
import dev.vmonboard.core.Registration.ServicePort;
import dev.vmonboard.core.Registration.SidecarSpec;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.WorkloadRef;
import dev.vmonboard.ssh.EmbeddedVm;
import java.util.List;

/**
 * One VM of the demo's scenario, as a user registers it: the WorkloadEntry (labels {@code cloud:
 * private}, {@code class: vm}, {@code app: <name>}; ServiceAccount {@code vm-sa}; network {@code
 * aws-vms}; the bootstrap annotations), a Service selecting {@code app: <name>} and a Sidecar
 * forwarding the application's port to {@code 127.0.0.1} and binding its egress to {@code
 * 127.0.0.2}.
 *
 * @param name the WorkloadEntry's name, also its {@code app} label
 * @param appPort the application's port on the VM (inbound traffic goes to 127.0.0.1:appPort)
 * @param address the VM's address as the mesh knows it ({@code spec.address}: a public IP)
 * @param instanceIp the IP the VM itself has ({@code proxy-instance-ip}: the private IP)
 */
record DemoVm(String name, int appPort, String address, String instanceIp) {

  static final String SERVICE_ACCOUNT = "vm-sa";
  static final String NETWORK = "aws-vms";

  /** A registry mirror the VM can reach (the {@code proxy-image-hub} annotation). */
  static final String IMAGE_HUB = "mirror.example.com/istio";

  static final DemoVm BACKEND = new DemoVm("backend-vm", 8888, "198.51.100.21", "10.0.0.21");
  static final DemoVm FRONTEND = new DemoVm("frontend-vm", 8080, "198.51.100.22", "10.0.0.22");

  /** The config directory on the embedded VM: {@code /etc/istio-proxy} inside its filesystem. */
  String configDir(EmbeddedVm vm) {
    return vm.root().resolve("etc/istio-proxy").toString();
  }

  /** What to register for this VM in {@code namespace}, reached at {@code vm} as {@code user}. */
  Registration registration(String namespace, EmbeddedVm vm, String user) {
    Workload workload =
        Workload.builder(WorkloadRef.of(namespace, name))
            .address(address)
            .putLabels("cloud", "private")
            .putLabels("class", "vm")
            .putLabels("app", name)
            .serviceAccount(SERVICE_ACCOUNT)
            .network(NETWORK)
            .putAnnotations(BootstrapAnnotation.SSH_HOST.key(), vm.host())
            .putAnnotations(BootstrapAnnotation.SSH_PORT.key(), Integer.toString(vm.port()))
            .putAnnotations(BootstrapAnnotation.SSH_USER.key(), user)
            .putAnnotations(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), configDir(vm))
            .putAnnotations(BootstrapAnnotation.PROXY_IMAGE_HUB.key(), IMAGE_HUB)
            .putAnnotations(BootstrapAnnotation.PROXY_INSTANCE_IP.key(), instanceIp)
            .build();
    return Registration.builder()
        .workload(workload)
        .createServiceAccount(true)
        .service(
            Registration.ServiceSpec.builder()
                .name(name)
                .putSelector("app", name)
                .addPorts(ServicePort.of("http", appPort))
                .build())
        .sidecar(
            SidecarSpec.builder()
                .name(name)
                .putSelector("app", name)
                .addIngress(SidecarSpec.Ingress.of(appPort, "HTTP", "http", "127.0.0.1:" + appPort))
                .addEgress(SidecarSpec.Egress.of("127.0.0.2", List.of("./*", "xcp-multicluster/*")))
                .build())
        .build();
  }
}
