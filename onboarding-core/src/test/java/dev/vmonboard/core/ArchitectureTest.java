package dev.vmonboard.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import org.junit.jupiter.api.Test;

/** The shape of the public API, checked on the compiled classes. */
class ArchitectureTest {

  private static final JavaClasses CORE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.vmonboard.core");

  @Test
  void coreUsesNoKubernetesOrSshLibrary() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.fabric8..", "com.jcraft..", "org.apache.sshd..")
        .check(CORE);
  }

  @Test
  void productionCodeDoesNotUseTheTestKit() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.vmonboard.core.testing..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.vmonboard.core.testing..")
        .check(CORE);
  }

  @Test
  void publicSignaturesExposeNoInternalType() {
    ArchRuleDefinition.codeUnits()
        .that()
        .areDeclaredInClassesThat(
            DescribedPredicate.describe(
                "public API classes",
                (JavaClass c) ->
                    c.getModifiers().contains(JavaModifier.PUBLIC)
                        && !c.getPackageName().contains(".internal")))
        .and()
        .arePublic()
        .should(exposeNoInternalType())
        .check(CORE);
  }

  private static ArchCondition<JavaCodeUnit> exposeNoInternalType() {
    return new ArchCondition<>("expose no type of an internal package") {
      @Override
      public void check(JavaCodeUnit unit, ConditionEvents events) {
        for (JavaClass type : unit.getParameterTypes().stream().map(t -> t.toErasure()).toList()) {
          report(unit, type, events);
        }
        report(unit, unit.getRawReturnType(), events);
      }

      private void report(JavaCodeUnit unit, JavaClass type, ConditionEvents events) {
        if (type.getPackageName().contains(".internal")) {
          events.add(
              SimpleConditionEvent.violated(
                  unit, unit.getFullName() + " exposes internal type " + type.getName()));
        }
      }
    };
  }
}
