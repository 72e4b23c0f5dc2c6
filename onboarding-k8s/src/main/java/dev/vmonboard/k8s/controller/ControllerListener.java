package dev.vmonboard.k8s.controller;

/**
 * Receives {@link ControllerEvent}s. Called from the controller's worker threads, so it must be
 * thread-safe and quick; an exception it throws is logged and otherwise ignored.
 */
@FunctionalInterface
public interface ControllerListener {

  /** One event. */
  void onEvent(ControllerEvent event);
}
