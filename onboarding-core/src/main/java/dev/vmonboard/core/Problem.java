package dev.vmonboard.core;

import dev.vmonboard.core.internal.ValueStyle;
import org.immutables.value.Value;

/** One thing wrong with an input: the field it concerns and what is wrong with it. */
@Value.Immutable
@ValueStyle
public abstract class Problem {

  Problem() {}

  /** The field, annotation or option at fault, e.g. {@code spec.serviceAccount}. */
  @Value.Parameter
  public abstract String field();

  /** What is wrong and, where it helps, what a valid value looks like. */
  @Value.Parameter
  public abstract String message();

  /** A problem with {@code field}. */
  public static Problem of(String field, String message) {
    return ImmutableProblem.of(field, message);
  }

  @Override
  public String toString() {
    return field() + " " + message();
  }
}
