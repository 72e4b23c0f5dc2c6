package dev.vmonboard.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks RBAC manifests against the requests a component really made: as the API server authorizes
 * them (verb, group, resource, namespace), by the manifest's Roles, ClusterRoles and bindings.
 */
final class RbacRules {

  private static final Pattern RESOURCE =
      Pattern.compile(
          "/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?");

  /** One authorization check, as the API server makes it. */
  record Access(String verb, String group, String resource, String namespace) {}

  private RbacRules() {}

  /**
   * Asserts that {@code manifest} grants every request of {@code requests} ({@code METHOD path}
   * lines) and nothing that none of them used.
   */
  static void assertGrantsExactly(List<HasMetadata> manifest, List<String> requests) {
    List<Access> used = new ArrayList<>();
    for (String line : requests) {
      access(line).ifPresent(used::add);
    }
    assertThat(used).isNotEmpty();
    List<Access> denied = used.stream().filter(a -> !allowed(manifest, a)).distinct().toList();
    assertThat(denied).as("requests the RBAC manifest does not grant").isEmpty();
    for (PolicyRule rule : rules(manifest)) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          assertThat(used)
              .as("the manifest grants %s on %s, which is never used", verb, resource)
              .anyMatch(a -> a.verb().equals(verb) && a.resource().equals(resource));
        }
      }
    }
  }

  /** The authorization check of one request line; empty for discovery and /version. */
  private static java.util.Optional<Access> access(String line) {
    String method = line.substring(0, line.indexOf(' '));
    String path = line.substring(line.indexOf(' ') + 1);
    String query = path.contains("?") ? path.substring(path.indexOf('?') + 1) : "";
    path = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    Matcher m = RESOURCE.matcher(path);
    if (!m.matches()) {
      return java.util.Optional.empty();
    }
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(3) + (m.group(5) == null ? "" : "/" + m.group(5));
    boolean named = m.group(4) != null;
    String verb =
        switch (method) {
          case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> method;
        };
    return java.util.Optional.of(new Access(verb, group, resource, m.group(2)));
  }

  private static boolean allowed(List<HasMetadata> manifest, Access access) {
    for (HasMetadata object : manifest) {
      if (object instanceof ClusterRoleBinding binding) {
        if (matches(clusterRole(manifest, binding.getRoleRef().getName()).getRules(), access)) {
          return true;
        }
      } else if (object instanceof RoleBinding binding
          && binding.getMetadata().getNamespace().equals(access.namespace())
          && binding.getRoleRef().getKind().equals("Role")) {
        Role role =
            manifest.stream()
                .filter(
                    o ->
                        o instanceof Role r
                            && r.getMetadata().getName().equals(binding.getRoleRef().getName()))
                .map(Role.class::cast)
                .findFirst()
                .orElseThrow();
        if (matches(role.getRules(), access)) {
          return true;
        }
      }
    }
    return false;
  }

  private static ClusterRole clusterRole(List<HasMetadata> manifest, String name) {
    return manifest.stream()
        .filter(o -> o instanceof ClusterRole r && r.getMetadata().getName().equals(name))
        .map(ClusterRole.class::cast)
        .findFirst()
        .orElseThrow();
  }

  private static boolean matches(List<PolicyRule> rules, Access access) {
    return rules.stream()
        .anyMatch(
            r ->
                r.getApiGroups().contains(access.group())
                    && r.getResources().contains(access.resource())
                    && r.getVerbs().contains(access.verb()));
  }

  private static List<PolicyRule> rules(List<HasMetadata> manifest) {
    List<PolicyRule> rules = new ArrayList<>();
    for (HasMetadata object : manifest) {
      if (object instanceof ClusterRole role) {
        rules.addAll(role.getRules());
      } else if (object instanceof Role role) {
        rules.addAll(role.getRules());
      }
    }
    return rules;
  }
}
