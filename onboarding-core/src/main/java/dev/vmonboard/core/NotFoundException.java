package dev.vmonboard.core;

/** A {@link StageException} for something that does not exist: a workload, a ServiceAccount, ... */
public class NotFoundException extends StageException {

  private static final long serialVersionUID = 1L;

  /**
   * Something is missing.
   *
   * @param message what is missing, e.g. {@code WorkloadEntry ns/backend-vm not found}
   * @param hint what the user can do, or null
   */
  public NotFoundException(String message, String hint) {
    super(message, hint, false, null);
  }
}
