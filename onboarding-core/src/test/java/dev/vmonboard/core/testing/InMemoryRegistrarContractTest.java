package dev.vmonboard.core.testing;

import dev.vmonboard.core.Registrar;

class InMemoryRegistrarContractTest extends RegistrarContract {

  private final InMemoryRegistrar registrar = new InMemoryRegistrar();

  @Override
  protected Registrar registrar() {
    return registrar;
  }
}
