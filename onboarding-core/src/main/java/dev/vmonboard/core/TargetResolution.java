package dev.vmonboard.core;

import dev.vmonboard.core.internal.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/** Resolves and validates a {@link Target} from annotations and defaults. */
final class TargetResolution {

  private static final Pattern USER = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}");

  private TargetResolution() {}

  static Target resolve(Workload workload, TargetDefaults defaults, boolean needsHost) {
    List<Problem> problems = new ArrayList<>();
    String host =
        workload.annotation(BootstrapAnnotation.SSH_HOST).or(workload::address).orElse(null);
    String hostField =
        workload.annotation(BootstrapAnnotation.SSH_HOST).isPresent()
            ? BootstrapAnnotation.SSH_HOST.key()
            : "spec.address";
    if ((host == null || host.isBlank()) && !needsHost) {
      host = Target.NO_HOST;
    } else if (host == null || host.isBlank()) {
      problems.add(
          Problem.of(
              hostField,
              workload.kind() == Workload.Kind.WORKLOAD_GROUP
                  ? "is missing: a WorkloadGroup has no address, so SSH delivery needs its "
                      + BootstrapAnnotation.SSH_HOST.key()
                      + " annotation (a local directory or archive needs no host)"
                  : "is missing: no host to reach the VM"));
    } else if (!Names.isAddress(host)) {
      problems.add(
          Problem.of(
              hostField,
              "'" + Names.printable(host) + "' is neither an IP address nor a DNS name"));
    }

    int port = defaults.port();
    Optional<String> portText = workload.annotation(BootstrapAnnotation.SSH_PORT);
    if (portText.isPresent()) {
      port = parsePort(portText.get(), problems);
    } else if (port < 1 || port > 65535) {
      problems.add(Problem.of("default SSH port", port + " is not a port number (1-65535)"));
    }

    Optional<String> user = workload.annotation(BootstrapAnnotation.SSH_USER).or(defaults::user);
    String userField =
        workload.annotation(BootstrapAnnotation.SSH_USER).isPresent()
            ? BootstrapAnnotation.SSH_USER.key()
            : "default SSH user";
    user.filter(name -> !USER.matcher(name).matches())
        .ifPresent(
            name ->
                problems.add(
                    Problem.of(
                        userField, "'" + Names.printable(name) + "' is not a valid user name")));

    String configDir =
        workload.annotation(BootstrapAnnotation.PROXY_CONFIG_DIR).orElse(defaults.configDir());
    String dirField =
        workload.annotation(BootstrapAnnotation.PROXY_CONFIG_DIR).isPresent()
            ? BootstrapAnnotation.PROXY_CONFIG_DIR.key()
            : "default config directory";
    checkConfigDir(dirField, configDir, problems);
    workload
        .annotation(BootstrapAnnotation.SCP_PATH)
        .filter(Names::hasForbidden)
        .ifPresent(
            path ->
                problems.add(
                    Problem.of(
                        BootstrapAnnotation.SCP_PATH.key(),
                        "'"
                            + Names.printable(path)
                            + "' contains "
                            + Names.describeForbidden(path)
                            + ", which has no place in a path")));

    InvalidInputException.throwIfAny(workload.ref(), "target", problems);
    Target.Builder target =
        Target.builder().host(host).port(port).user(user).configDir(stripTrailingSlash(configDir));
    workload
        .annotation(BootstrapAnnotation.SCP_PATH)
        .ifPresent(path -> target.putOptions("scp-path", path));
    return target.build();
  }

  /** The port of the annotation: ASCII digits only, nothing around them (no trimming). */
  private static int parsePort(String text, List<Problem> problems) {
    OptionalInt port = Names.parsePort(text);
    if (port.isPresent()) {
      return port.getAsInt();
    }
    problems.add(
        Problem.of(
            BootstrapAnnotation.SSH_PORT.key(),
            "'"
                + Names.printable(text)
                + "' is not a port number (1-65535, ASCII digits only, no spaces)"));
    return -1;
  }

  /** An absolute, normalised directory, not the root, without control characters. */
  static void checkConfigDir(String field, String dir, List<Problem> problems) {
    if (!dir.startsWith("/")) {
      problems.add(Problem.of(field, "'" + Names.printable(dir) + "' must be an absolute path"));
      return;
    }
    if (dir.length() > 1024) {
      problems.add(
          Problem.of(field, "is too long (" + dir.length() + " characters, at most 1024)"));
      return;
    }
    String trimmed = stripTrailingSlash(dir);
    if (trimmed.isEmpty() || trimmed.equals("/")) {
      problems.add(Problem.of(field, "cannot be the root directory"));
      return;
    }
    if (!BundleFile.isSafeRelativePath(trimmed.substring(1))) {
      problems.add(
          Problem.of(
              field,
              "'"
                  + Names.printable(dir)
                  + "' must be a normalised path without '.', '..', empty segments, backslashes,"
                  + " control or format characters"));
    }
  }

  private static String stripTrailingSlash(String dir) {
    String result = dir;
    while (result.length() > 1 && result.endsWith("/")) {
      result = result.substring(0, result.length() - 1);
    }
    return result;
  }
}
