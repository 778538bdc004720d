// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/strong_words.h"

#include <gtest/gtest.h>

namespace parley::pipeline {
namespace {

const StrongWords kList = StrongWords::parse("# a list\nbullshit\n  shit \nhijo de puta\ncoño\nfoda-se\n\nputa\n");

TEST(StrongWords, MasksWholeWordsInAnyCaseAfterTheFirstLetter) {
  EXPECT_EQ(kList.mask("That was Bullshit, and SHIT."), "That was B*******, and S***.");
  EXPECT_EQ(kList.mask("A shitake, a Mushitz."), "A shitake, a Mushitz.") << "whole words only";
  EXPECT_EQ(kList.mask("¡Coño! ¡COÑO!"), "¡C***! ¡C***!") << "accented capitals";
  EXPECT_EQ(kList.mask("Ese hijo  de puta."), "Ese h***  ** ****.") << "a phrase across spaces, the longest match";
  EXPECT_EQ(kList.mask("Uma puta, foda-se!"), "Uma p***, f***-**!") << "only letters are masked";
  EXPECT_EQ(kList.mask("nothing here"), "nothing here");
  EXPECT_TRUE(StrongWords().mask("shit") == "shit") << "an empty list masks nothing";
}

TEST(StrongWords, SpeechLeavesTheWordsOut) {
  EXPECT_EQ(kList.drop("That was bullshit."), "That was.");
  EXPECT_EQ(kList.drop("Shit, it broke."), "it broke.");
  EXPECT_EQ(kList.drop("Clean words."), "Clean words.");
}

TEST(StrongWords, InATranslationTheSourceListTakesOnlyWordsCarriedThrough) {
  const auto english = StrongWords::parse("bullshit\n");
  EXPECT_EQ(english.mask_carried("Es bullshit.", "It is bullshit."), "Es b*******.") << "passed through untranslated";
  const auto french = StrongWords::parse("bite\n");
  EXPECT_EQ(french.mask_carried("The dog will bite.", "Le chien va mordre."), "The dog will bite.")
      << "a word of the source's list that the source does not have is the translation's own";
  EXPECT_EQ(english.drop_carried("Es bullshit.", "It is bullshit."), "Es.");
  EXPECT_TRUE(StrongWords::has_letters("Ça"));
  EXPECT_FALSE(StrongWords::has_letters("\u202F!"));
  EXPECT_FALSE(StrongWords::has_letters(""));
}

TEST(StrongWords, BrokenUtf8IsLeftAlone) {
  EXPECT_EQ(kList.mask("sh\xc3it \xff shit"), "sh\xc3it \xff s***");
}

}  // namespace
}  // namespace parley::pipeline
