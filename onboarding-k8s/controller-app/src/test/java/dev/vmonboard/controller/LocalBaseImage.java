package dev.vmonboard.controller;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Makes the controller image's base without a registry or network: a JRE linked ({@code jlink})
 * from the JDK that runs the build, under {@code /opt/java}, with the C libraries it links (as
 * {@code ldd} names them), {@code /etc/passwd} with the non-root user 65532 and a {@code /tmp}; in
 * the {@code docker save} layout that Jib reads as a {@code tar://} base. Run by the build in
 * prepare-package: {@code LocalBaseImage TARGET.tar}. Reproducible: every time stamp is zero.
 */
public final class LocalBaseImage {

  /** The JDK modules the controller and its libraries use (jdeps), and the TLS and DNS ones. */
  static final List<String> MODULES =
      List.of(
          "java.base",
          "java.desktop",
          "java.instrument",
          "java.logging",
          "java.management",
          "java.naming",
          "java.net.http",
          "java.security.jgss",
          "java.sql",
          "jdk.crypto.ec",
          "jdk.httpserver",
          "jdk.naming.dns",
          "jdk.unsupported");

  static final String JAVA_HOME = "/opt/java";

  private static final Pattern LIBRARY = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");

  private LocalBaseImage() {}

  /** Writes the base image to {@code args[0]} unless it is there already. */
  public static void main(String[] args) throws Exception {
    Path target = Path.of(args[0]);
    // Jib runs next in this JVM: no update check over the network, and the base layer's cache
    // under target/ rather than in the user's home.
    System.setProperty("jib.disableUpdateChecks", "true");
    System.setProperty(
        "jib.baseImageCache", target.toAbsolutePath().getParent().resolve("cache").toString());
    if (Files.isRegularFile(target)) {
      return;
    }
    Path work = Files.createDirectories(target.getParent()).resolve("jre");
    deleteTree(work);
    jlink(work);
    Path layer = target.getParent().resolve("layer.tar");
    String diffId = writeLayer(work, libraries(work), layer);
    writeImage(layer, diffId, target);
    Files.delete(layer);
    deleteTree(work);
  }

  private static void jlink(Path output) {
    ToolProvider jlink =
        ToolProvider.findFirst("jlink")
            .orElseThrow(() -> new IllegalStateException("this JDK has no jlink"));
    StringWriter log = new StringWriter();
    int code =
        jlink.run(
            new PrintWriter(log),
            new PrintWriter(log),
            "--add-modules",
            String.join(",", MODULES),
            "--strip-debug",
            "--no-header-files",
            "--no-man-pages",
            "--output",
            output.toString());
    if (code != 0) {
      throw new IllegalStateException("jlink failed (" + code + "): " + log);
    }
  }

  /** The shared libraries (absolute paths on this machine) that the JRE's programs link. */
  private static Set<String> libraries(Path jre) throws IOException, InterruptedException {
    List<Path> elves = new ArrayList<>();
    try (Stream<Path> files = Files.walk(jre)) {
      files
          .filter(Files::isRegularFile)
          .filter(f -> f.toString().endsWith(".so") || f.getParent().endsWith("bin"))
          .forEach(elves::add);
    }
    Set<String> libraries = new TreeSet<>();
    for (Path elf : elves) {
      Process ldd = new ProcessBuilder("ldd", elf.toString()).redirectErrorStream(true).start();
      String out = new String(ldd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      ldd.waitFor();
      for (String line : out.split("\n")) {
        Matcher m = LIBRARY.matcher(line.strip());
        if (m.find() && !m.group(1).startsWith(jre.toString())) {
          libraries.add(m.group(1));
        }
      }
    }
    return libraries;
  }

  private static String writeLayer(Path jre, Set<String> libraries, Path layer)
      throws IOException, NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (OutputStream file = Files.newOutputStream(layer);
        TarArchiveOutputStream tar =
            new TarArchiveOutputStream(new DigestOutputStream(file, sha))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      TreeMap<String, Path> files = new TreeMap<>();
      try (Stream<Path> walk = Files.walk(jre)) {
        walk.filter(Files::isRegularFile)
            .forEach(f -> files.put(JAVA_HOME.substring(1) + "/" + jre.relativize(f), f));
      }
      for (String library : libraries) {
        files.put(library.substring(1), Path.of(library).toRealPath());
      }
      Set<String> directories = new TreeSet<>(List.of("etc", "tmp"));
      for (String name : files.keySet()) {
        for (int i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
          directories.add(name.substring(0, i));
        }
      }
      for (String directory : directories) {
        TarArchiveEntry entry = new TarArchiveEntry(directory + "/");
        entry.setMode(directory.equals("tmp") ? 01777 : 0755);
        entry.setModTime(0);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
      }
      addText(
          tar,
          "etc/passwd",
          "root:x:0:0:root:/root:/sbin/nologin\n"
              + "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
      addText(tar, "etc/group", "root:x:0:\nnonroot:x:65532:\n");
      for (var item : files.entrySet()) {
        TarArchiveEntry entry = new TarArchiveEntry(item.getKey());
        entry.setSize(Files.size(item.getValue()));
        entry.setMode(
            Files.getPosixFilePermissions(item.getValue())
                    .contains(PosixFilePermission.OWNER_EXECUTE)
                ? 0755
                : 0644);
        entry.setModTime(0);
        tar.putArchiveEntry(entry);
        Files.copy(item.getValue(), tar);
        tar.closeArchiveEntry();
      }
      tar.finish();
    }
    return "sha256:" + HexFormat.of().formatHex(sha.digest());
  }

  private static void addText(TarArchiveOutputStream tar, String name, String text)
      throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(bytes.length);
    entry.setMode(0644);
    entry.setModTime(0);
    tar.putArchiveEntry(entry);
    tar.write(bytes);
    tar.closeArchiveEntry();
  }

  private static void writeImage(Path layer, String diffId, Path target) throws IOException {
    String config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH="
            + JAVA_HOME
            + "/bin:/usr/bin:/bin\",\"JAVA_HOME="
            + JAVA_HOME
            + "\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
            + diffId
            + "\"]}}";
    String manifest =
        "[{\"Config\":\"config.json\",\"RepoTags\":[\"vmonboard-local-base:17\"],"
            + "\"Layers\":[\"layer.tar\"]}]";
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(partial))) {
      addText(tar, "config.json", config);
      addText(tar, "manifest.json", manifest);
      TarArchiveEntry entry = new TarArchiveEntry("layer.tar");
      entry.setSize(Files.size(layer));
      entry.setModTime(0);
      tar.putArchiveEntry(entry);
      Files.copy(layer, tar);
      tar.closeArchiveEntry();
      tar.finish();
    }
    Files.move(partial, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
