package dev.vmonboard.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/** File modes as octal numbers. */
final class Modes {

  private Modes() {}

  /** The permission bits of {@code path}, e.g. {@code 0600}, not following a link. */
  static String of(Path path) {
    return String.format("%04o", bits(path));
  }

  static int bits(Path path) {
    try {
      Set<PosixFilePermission> permissions =
          Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      int mode = 0;
      for (PosixFilePermission permission : permissions) {
        mode |= 1 << (8 - permission.ordinal());
      }
      return mode;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
