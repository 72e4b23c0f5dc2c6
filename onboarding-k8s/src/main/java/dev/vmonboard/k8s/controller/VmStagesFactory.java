package dev.vmonboard.k8s.controller;

/**
 * Builds the VM side of the controller's pipeline from the credentials Secret.
 *
 * <p>Called when the controller first needs a pipeline and again whenever the Secret changes (key
 * rotation), so that new runs use the new credentials while runs in flight finish with the old
 * ones. It must not log or keep the credentials anywhere else, and may throw (an {@link
 * IllegalStateException} from {@link VmCredentials#require(String)}, for example): the controller
 * records the message on every entry it could not reconcile and tries again with backoff.
 */
@FunctionalInterface
public interface VmStagesFactory {

  /** The transport and launcher that reach VMs with {@code credentials}. */
  VmStages create(VmCredentials credentials);
}
