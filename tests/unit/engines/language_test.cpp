// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/language.h"

#include <gtest/gtest.h>

namespace parley::engines {
namespace {

TEST(Language, NormalisesApertiumAndBcp47Codes) {
  EXPECT_EQ(normalize_language("eng"), "en");
  EXPECT_EQ(normalize_language("spa"), "es");
  EXPECT_EQ(normalize_language("fre"), "fr");
  EXPECT_EQ(normalize_language("ES"), "es");
  EXPECT_EQ(normalize_language("pt_br"), "pt-BR");
  EXPECT_EQ(normalize_language("en-us"), "en-US");
}

TEST(Language, RejectsGarbage) {
  EXPECT_EQ(normalize_language(""), std::nullopt);
  EXPECT_EQ(normalize_language("x"), std::nullopt);
  EXPECT_EQ(normalize_language("english"), std::nullopt);
  EXPECT_EQ(normalize_language("e1"), std::nullopt);
  EXPECT_EQ(normalize_language("en-"), std::nullopt);
  EXPECT_EQ(normalize_language("../../etc"), std::nullopt);
}

TEST(Language, NamesLanguages) {
  EXPECT_EQ(language_name("fr"), "French");
  EXPECT_EQ(language_name("pt-BR"), "Portuguese (BR)");
  EXPECT_EQ(language_name("zz"), "zz");
}

}  // namespace
}  // namespace parley::engines
