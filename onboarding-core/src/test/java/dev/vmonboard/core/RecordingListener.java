package dev.vmonboard.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every event, for assertions. */
final class RecordingListener implements OnboardingListener {

  private final List<OnboardingEvent> events = new CopyOnWriteArrayList<>();

  @Override
  public void onEvent(OnboardingEvent event) {
    events.add(event);
  }

  List<OnboardingEvent> events() {
    return List.copyOf(events);
  }

  <T extends OnboardingEvent> List<T> events(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }
}
