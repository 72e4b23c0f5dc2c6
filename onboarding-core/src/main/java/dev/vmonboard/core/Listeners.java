package dev.vmonboard.core;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers events to every listener; a listener that throws is logged and skipped. */
final class Listeners {

  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

  private final List<OnboardingListener> listeners;

  Listeners(List<OnboardingListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  void emit(OnboardingEvent event) {
    for (OnboardingListener listener : listeners) {
      try {
        listener.onEvent(event);
      } catch (RuntimeException e) {
        LOG.warn(
            "listener {} threw {} on {}; onboarding goes on",
            listener.getClass().getName(),
            e.getClass().getName(),
            event.getClass().getSimpleName());
      }
    }
  }
}
