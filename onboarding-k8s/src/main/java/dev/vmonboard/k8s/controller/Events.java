package dev.vmonboard.k8s.controller;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers events to the listeners; a listener that throws is logged, not propagated. */
final class Events {

  private static final Logger LOG = LoggerFactory.getLogger(Events.class);

  private final List<ControllerListener> listeners;

  Events(List<ControllerListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  void emit(ControllerEvent event) {
    for (ControllerListener listener : listeners) {
      try {
        listener.onEvent(event);
      } catch (RuntimeException e) {
        LOG.warn(
            "controller listener {} failed on {}", listener, event.getClass().getSimpleName(), e);
      }
    }
  }
}
