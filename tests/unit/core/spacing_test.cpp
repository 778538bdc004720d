// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/spacing.h"

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(Spacing, OneSpaceBetweenWordsNoneAtTheEnds) {
  EXPECT_EQ(tidy_spacing("  Tres  espacios \t  aquí.  ", "es"), "Tres espacios aquí.");
  EXPECT_EQ(tidy_spacing("", "es"), "");
  EXPECT_EQ(tidy_spacing("   ", "es"), "");
}

TEST(Spacing, NoSpaceBeforeClosingPunctuation) {
  EXPECT_EQ(tidy_spacing("Y no .", "es"), "Y no.");
  EXPECT_EQ(tidy_spacing("Y no , dijo .", "es"), "Y no, dijo.");
  EXPECT_EQ(tidy_spacing("¿ Por qué ? ¡ Sí !", "es"), "¿Por qué? ¡Sí!");
  EXPECT_EQ(tidy_spacing("( entre paréntesis )", "pt"), "(entre paréntesis)");
  EXPECT_EQ(tidy_spacing("Well …", "en"), "Well…");
  EXPECT_EQ(tidy_spacing("He said : no ; yes", "en"), "He said: no; yes");
}

TEST(Spacing, FrenchKeepsANarrowNoBreakSpaceBeforeHighMarks) {
  EXPECT_EQ(tidy_spacing("Vraiment ? Oui !", "fr"), "Vraiment\u202F? Oui\u202F!");
  EXPECT_EQ(tidy_spacing("Vraiment? Oui!", "fr"), "Vraiment\u202F? Oui\u202F!") << "added where missing";
  EXPECT_EQ(tidy_spacing("Il a dit: non; c'est ça?!", "fr"), "Il a dit\u202F: non\u202F; c'est ça\u202F?!");
  EXPECT_EQ(tidy_spacing("Rendez-vous à 10:30, voir https://x.org", "fr"), "Rendez-vous à 10:30, voir https://x.org");
  EXPECT_EQ(tidy_spacing("«bonjour» et «\u202Fsalut\u202F»", "fr"), "«\u202Fbonjour\u202F» et «\u202Fsalut\u202F»");
  EXPECT_EQ(tidy_spacing("Oui\u00A0!", "fr"), "Oui\u00A0!") << "a no-break space already there stays";
  EXPECT_EQ(tidy_spacing("« bonjour »", "fr"), "«\u202Fbonjour\u202F»");
  EXPECT_EQ(tidy_spacing("« hola »", "es"), "«hola»");
  EXPECT_EQ(tidy_spacing("La fin .", "fr"), "La fin.");
}

TEST(Spacing, LeavesOtherBytesAlone) {
  EXPECT_EQ(tidy_spacing("naïve café — 3 € x", "fr"), "naïve café — 3 € x");
  EXPECT_EQ(tidy_spacing("a\xff  b", "en"), "a\xff b");
}

}  // namespace
}  // namespace parley::core
