package dev.vmonboard.ssh;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.KeyExchange;
import com.jcraft.jsch.Session;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key exchange algorithms JSch can use in this JVM, found out once.
 *
 * <p>Left alone, JSch finds this out again on every connection (its {@code CheckKexes} setting): it
 * generates a key pair for each of eight algorithms, post-quantum ones included, before it sends
 * its first key exchange message, a large part of the client's CPU time of a login. This class runs
 * JSch's own test once per JVM (an instance of each listed algorithm's class, initialised) and
 * gives each session the result: JSch's {@code kex} list, in its order, less what this JVM cannot
 * do, and nothing left to check. When the test itself cannot run (JSch's classes are not
 * accessible, as on a module path that does not open them), sessions keep JSch's default behaviour.
 *
 * <p>When Bouncy Castle is on the class path, sessions also use its Ed25519 and X25519 (through
 * JSch's own {@code com.jcraft.jsch.bc} classes), which cost a fraction of the JDK 17's CPU.
 */
final class KeyExchanges {

  private static final Logger LOG = LoggerFactory.getLogger(KeyExchanges.class);

  private KeyExchanges() {}

  /**
   * Sets {@code session}'s key exchange algorithms to those that work here, checked once, and its
   * Curve25519 implementations to Bouncy Castle's when that is on the class path.
   */
  static void configure(Session session) {
    Holder.AVAILABLE.ifPresent(
        kex -> {
          session.setConfig("kex", kex);
          session.setConfig("CheckKexes", "");
        });
    Holder.BOUNCY_CASTLE_CURVES.forEach(session::setConfig);
  }

  private static final class Holder {
    static final Optional<String> AVAILABLE = available();
    static final Map<String, String> BOUNCY_CASTLE_CURVES = bouncyCastleCurves();
  }

  /**
   * JSch's Bouncy Castle classes for Ed25519 signatures (the login's and the host key's) and the
   * X25519 key exchange, when Bouncy Castle is on the class path and they work: the JDK 17's own
   * take several times the CPU (about 2 ms of a login's 8 to 15 here). Empty otherwise: JSch then
   * uses the JDK's, as it does by default.
   */
  private static Map<String, String> bouncyCastleCurves() {
    Map<String, String> classes =
        Map.of(
            "ssh-ed25519", "com.jcraft.jsch.bc.SignatureEd25519",
            "xdh", "com.jcraft.jsch.bc.XDH");
    try {
      for (String name : classes.values()) {
        Object implementation = Class.forName(name).getDeclaredConstructor().newInstance();
        if (implementation instanceof com.jcraft.jsch.Signature signature) {
          signature.init();
        } else {
          ((com.jcraft.jsch.XDH) implementation).init("X25519", 32);
        }
      }
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      LOG.debug("Bouncy Castle is not usable here; JSch keeps the JDK's Curve25519", e);
      return Map.of();
    } catch (Exception e) {
      LOG.debug("Bouncy Castle's Curve25519 does not initialise; JSch keeps the JDK's", e);
      return Map.of();
    }
    return classes;
  }

  private static Optional<String> available() {
    Set<String> checked = Set.of(JSch.getConfig("CheckKexes").split(","));
    List<String> kept = new ArrayList<>();
    try {
      JSch jsch = new JSch();
      jsch.setInstanceLogger(Slf4jJschLogger.INSTANCE);
      Session probe = jsch.getSession("probe", "localhost", 22);
      for (String kex : JSch.getConfig("kex").split(",")) {
        if (!checked.contains(kex) || works(probe, kex)) {
          kept.add(kex);
        } else {
          LOG.debug("key exchange {} is not available in this JVM", kex);
        }
      }
    } catch (JSchException | ReflectiveOperationException | RuntimeException e) {
      LOG.debug("cannot check JSch's key exchanges once; JSch checks them per connection", e);
      return Optional.empty();
    }
    return Optional.of(String.join(",", kept));
  }

  /**
   * Whether {@code kex} initialises, as JSch's own check does.
   *
   * @throws ReflectiveOperationException when the check cannot be made at all
   */
  private static boolean works(Session probe, String kex) throws ReflectiveOperationException {
    Constructor<?> constructor;
    try {
      constructor = Class.forName(JSch.getConfig(kex)).getDeclaredConstructor();
    } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
      return false;
    }
    constructor.setAccessible(true);
    KeyExchange exchange = (KeyExchange) constructor.newInstance();
    try {
      exchange.init(probe, null, null, null, null);
      return true;
    } catch (Exception | LinkageError e) {
      return false;
    }
  }
}
