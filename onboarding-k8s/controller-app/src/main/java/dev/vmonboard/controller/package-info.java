/**
 * The onboarding controller as a deployable: its {@link dev.vmonboard.controller.ControllerMain
 * entry point} (the container image's), its SSH VM stages and its health endpoints. Carries no
 * embedded cluster, no embedded SSH server and no demo code.
 */
package dev.vmonboard.controller;
