package dev.vmonboard.reliability;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.KeyPair;
import dev.vmonboard.core.BootstrapAnnotation;
import dev.vmonboard.core.BootstrapToken;
import dev.vmonboard.core.OnboardingPipeline;
import dev.vmonboard.core.RetryPolicy;
import dev.vmonboard.core.TokenIssuer;
import dev.vmonboard.core.TokenRequest;
import dev.vmonboard.core.Workload;
import dev.vmonboard.core.bundle.ContainerBundleFactory;
import dev.vmonboard.core.testing.Canary;
import dev.vmonboard.k8s.EmbeddedIstioCluster;
import dev.vmonboard.k8s.KubernetesMeshDiscovery;
import dev.vmonboard.k8s.KubernetesRegistrar;
import dev.vmonboard.k8s.ServiceAccountTokenIssuer;
import dev.vmonboard.ssh.ContainerProxyLauncher;
import dev.vmonboard.ssh.EmbeddedVm;
import dev.vmonboard.ssh.HostKeyPolicy;
import dev.vmonboard.ssh.SshConnector;
import dev.vmonboard.ssh.SshIdentity;
import dev.vmonboard.ssh.SshTransport;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real parts of an onboarding, wired as a user wires them: an {@link EmbeddedIstioCluster}
 * (fabric8's mock API server over HTTP, with Istio), {@link EmbeddedVm}s (MINA SSHD running real
 * {@code /bin/sh}), a client key made for the run, a strict known_hosts file, and a pipeline of the
 * SDK's default stages: {@link KubernetesRegistrar}, {@link ServiceAccountTokenIssuer}, {@link
 * KubernetesMeshDiscovery}, {@link ContainerBundleFactory}, {@link SshTransport} and {@link
 * ContainerProxyLauncher}. Nothing is stubbed: the only addition is that every token the cluster
 * issues is marked with the {@link Canary} (see {@link #canaryTokens}), and every event goes to the
 * log, where {@code NoSecretsInOutput} (auto-detected for this module's tests) looks for it.
 */
final class Rig implements AutoCloseable {

  static final String NS = "vms";
  static final String SERVICE_ACCOUNT = "vm-sa";

  private static final Logger LOG = LoggerFactory.getLogger("vmonboard.reliability.events");
  private static final ResourceDefinitionContext WORKLOAD_ENTRIES =
      new ResourceDefinitionContext.Builder()
          .withGroup("networking.istio.io")
          .withVersion("v1")
          .withKind("WorkloadEntry")
          .withPlural("workloadentries")
          .withNamespaced(true)
          .build();

  /**
   * Base64url of <code>{"alg":"ES256","kid":"</code>: how every token the embedded cluster signs
   * starts, watched so that even part of a token is found in any output.
   */
  static final String JWT_HEADER = "eyJhbGciOiJFUzI1NiIsImtpZCI6";

  static {
    Canary.watch(JWT_HEADER);
  }

  final Path dir;
  final EmbeddedIstioCluster cluster;
  final Path privateKey;
  final String publicKeyLine;
  final Path knownHosts;
  final SshConnector ssh;
  private final List<EmbeddedVm> vms = new ArrayList<>();

  private Rig(Path dir, EmbeddedIstioCluster cluster) {
    this.dir = dir;
    this.cluster = cluster;
    this.privateKey = dir.resolve("id_ed25519");
    this.publicKeyLine = clientKey(privateKey);
    this.knownHosts = dir.resolve("known_hosts");
    write(knownHosts, "");
    this.ssh = connector(privateKey);
  }

  /** A rig with a typical Istio cluster holding namespace {@value #NS} and its ServiceAccount. */
  static Rig start(Path dir) {
    return start(dir, EmbeddedIstioCluster.start());
  }

  static Rig start(Path dir, EmbeddedIstioCluster cluster) {
    cluster
        .client()
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(SERVICE_ACCOUNT)
                .withNamespace(NS)
                .endMetadata()
                .build())
        .create();
    return new Rig(dir, cluster);
  }

  /** A connector that logs in with {@code key} and trusts only this rig's known_hosts. */
  SshConnector connector(Path key) {
    return SshConnector.builder()
        .identity(SshIdentity.fromFile(key))
        .hostKeyPolicy(HostKeyPolicy.knownHosts(knownHosts))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** Starts a VM that accepts this rig's key, and trusts its host key. */
  EmbeddedVm vm() {
    return vm(publicKeyLine);
  }

  /** Starts a VM that accepts only {@code authorizedKey}, and trusts its host key. */
  EmbeddedVm vm(String authorizedKey) {
    return vm(EmbeddedVm.builder().authorizedKey(authorizedKey));
  }

  /** Starts a VM that accepts this rig's key and offers {@code http} to probe readiness. */
  EmbeddedVm vm(EmbeddedVm.HttpClient http) {
    return vm(EmbeddedVm.builder().authorizedKey(publicKeyLine).httpClient(http));
  }

  private EmbeddedVm vm(EmbeddedVm.Builder builder) {
    try {
      EmbeddedVm vm = builder.start();
      synchronized (vms) {
        vms.add(vm);
        Files.writeString(knownHosts, vm.knownHostsLine() + "\n", StandardOpenOption.APPEND);
      }
      return vm;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The config directory the entries of this rig give {@code vm}. */
  static Path configDir(EmbeddedVm vm) {
    return vm.root().resolve("etc/istio-proxy");
  }

  /**
   * The annotations that point an entry at {@code vm}: its SSH port on 127.0.0.1 and a config
   * directory inside its filesystem.
   */
  static Map<String, String> reach(EmbeddedVm vm) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(BootstrapAnnotation.SSH_HOST.key(), vm.host());
    annotations.put(BootstrapAnnotation.SSH_PORT.key(), Integer.toString(vm.port()));
    annotations.put(BootstrapAnnotation.PROXY_CONFIG_DIR.key(), configDir(vm).toString());
    return annotations;
  }

  /**
   * The annotations of an entry whose SSH port refuses connections: port 1 of 127.0.0.2, where
   * nothing listens (a free port of 127.0.0.1 could be taken by another server meanwhile), and a
   * config directory below {@code dir} in case anything ever got through.
   */
  static Map<String, String> refusing(Path dir) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(BootstrapAnnotation.SSH_HOST.key(), "127.0.0.2");
    annotations.put(BootstrapAnnotation.SSH_PORT.key(), "1");
    annotations.put(
        BootstrapAnnotation.PROXY_CONFIG_DIR.key(), dir.resolve("istio-proxy").toString());
    return annotations;
  }

  /**
   * Creates a WorkloadEntry as a user with kubectl would, values unchecked: {@code spec} and {@code
   * annotations} as given, labels {@code app: <name>} unless the spec says otherwise.
   */
  void entry(String name, Map<String, Object> spec, Map<String, String> annotations) {
    GenericKubernetesResource entry = new GenericKubernetesResource();
    entry.setApiVersion("networking.istio.io/v1");
    entry.setKind("WorkloadEntry");
    entry.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(name)
            .withNamespace(NS)
            .withAnnotations(annotations)
            .build());
    entry.setAdditionalProperty("spec", spec);
    cluster
        .client()
        .genericKubernetesResources(WORKLOAD_ENTRIES)
        .inNamespace(NS)
        .resource(entry)
        .create();
  }

  /** A valid spec: address {@code address}, this rig's ServiceAccount, label {@code app}. */
  static Map<String, Object> spec(String address, String app) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("address", address);
    spec.put("serviceAccount", SERVICE_ACCOUNT);
    spec.put("labels", new LinkedHashMap<>(Map.of("app", app)));
    return spec;
  }

  /** A valid entry named {@code name} for {@code vm}, with VM address {@code address}. */
  void entryFor(String name, EmbeddedVm vm, String address) {
    entry(name, spec(address, name), reach(vm));
  }

  /** The entry's spec as the cluster holds it, to change it. */
  GenericKubernetesResource readEntry(String name) {
    return cluster
        .client()
        .genericKubernetesResources(WORKLOAD_ENTRIES)
        .inNamespace(NS)
        .withName(name)
        .get();
  }

  /** Replaces the entry with {@code entry} (after changing what it read). */
  void updateEntry(GenericKubernetesResource entry) {
    cluster
        .client()
        .genericKubernetesResources(WORKLOAD_ENTRIES)
        .inNamespace(NS)
        .resource(entry)
        .update();
  }

  /**
   * The SDK's default stages on this rig, with retries fast enough for tests (3 attempts, 20 ms
   * apart) and a launcher that gives up on readiness after {@code readiness}.
   */
  OnboardingPipeline.Builder pipeline(Duration readiness) {
    return OnboardingPipeline.builder()
        .registrar(KubernetesRegistrar.create(cluster.cluster()))
        .tokenIssuer(canaryTokens(ServiceAccountTokenIssuer.create(cluster.cluster())))
        .meshSource(KubernetesMeshDiscovery.create(cluster.cluster()))
        .bundleFactory(ContainerBundleFactory.create())
        .transport(SshTransport.using(ssh))
        .launcher(
            ContainerProxyLauncher.builder(ssh)
                .readinessTimeout(readiness)
                .pollInterval(Duration.ofMillis(50))
                .build())
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(100)))
        .stageTimeout(Duration.ofSeconds(30))
        .listener(event -> LOG.info("event {}", event));
  }

  OnboardingPipeline.Builder pipeline() {
    return pipeline(Duration.ofSeconds(5));
  }

  /**
   * The issuer's tokens with the {@link Canary} in front: the real token from the TokenRequest API
   * still travels, inside a secret that a leak check can find in any output. Every issued token is
   * also registered with the {@link Canary}, so a leak of the bare JWT is caught as well.
   */
  static TokenIssuer canaryTokens(TokenIssuer issuer) {
    return new TokenIssuer() {
      @Override
      public BootstrapToken issue(Workload workload, TokenRequest request) {
        BootstrapToken real = issuer.issue(workload, request);
        Canary.watch(real.secret());
        String marked = Canary.SECRET + "." + real.secret();
        Canary.watch(marked);
        return BootstrapToken.of(marked, real.audience(), real.expiresAt());
      }

      @Override
      public List<String> describe(Workload workload, TokenRequest request) {
        return issuer.describe(workload, request);
      }
    };
  }

  /** Every VM started by this rig. */
  List<EmbeddedVm> vms() {
    synchronized (vms) {
      return List.copyOf(vms);
    }
  }

  @Override
  public void close() {
    for (EmbeddedVm vm : vms()) {
      vm.close();
    }
    cluster.close();
  }

  /** Writes an ed25519 key pair as OpenSSH does; returns the public key line. */
  static String clientKey(Path file) {
    try {
      KeyPair pair = KeyPair.genKeyPair(new JSch(), KeyPair.ED25519);
      ByteArrayOutputStream privateBytes = new ByteArrayOutputStream();
      pair.writeOpenSSHv1PrivateKey(privateBytes, null);
      Files.write(file, privateBytes.toByteArray());
      ByteArrayOutputStream publicBytes = new ByteArrayOutputStream();
      pair.writePublicKey(publicBytes, "reliability");
      pair.dispose();
      return publicBytes.toString(StandardCharsets.US_ASCII).strip();
    } catch (JSchException | IOException e) {
      throw new IllegalStateException("cannot make a client key", e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
