package dev.vmonboard.core.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.immutables.value.Value;

/**
 * The one Immutables style of the SDK's value types.
 *
 * <p>Generated {@code Immutable*} classes stay package-private; callers reach builders through the
 * abstract type ({@code Workload.builder()}) and never see generated names. Attributes marked
 * {@code @Value.Redacted} print as {@code ****} in {@code toString()}. For the SDK's own modules;
 * host applications do not need it.
 */
@Target({ElementType.PACKAGE, ElementType.TYPE})
@Retention(RetentionPolicy.CLASS)
@Value.Style(
    visibility = Value.Style.ImplementationVisibility.PACKAGE,
    builderVisibility = Value.Style.BuilderVisibility.PACKAGE,
    overshadowImplementation = true,
    redactedMask = "****",
    jdkOnly = true,
    defaults = @Value.Immutable(copy = false))
public @interface ValueStyle {}
