// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/spoken.h"

#include <gtest/gtest.h>

namespace parley::words {
namespace {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (auto& t : spoken_tokens(text)) out.push_back(t.word);
  return out;
}

TEST(Spoken, WordsAreLowerCasedWithApostrophesKeptAndPunctuationDropped) {
  EXPECT_EQ(words_of("Don't stop, Mrs. O'Brien!  \xE2\x80\x9CWell\xE2\x80\x9D \xE2\x80\x94 it\xE2\x80\x99s fine."),
            (std::vector<std::string>{"don't", "stop", "missus", "o'brien", "well", "it's", "fine"}));
  EXPECT_EQ(words_of("state-of-the-art and/or"), (std::vector<std::string>{"state", "of", "the", "art", "and", "or"}));
}

TEST(Spoken, NumbersAreSaidAsAPersonWouldReadThem) {
  EXPECT_EQ(words_of("3 cards"), (std::vector<std::string>{"three", "cards"}));
  EXPECT_EQ(words_of("in 1984"), (std::vector<std::string>{"in", "nineteen", "eighty", "four"}));
  EXPECT_EQ(words_of("1805"), (std::vector<std::string>{"eighteen", "oh", "five"}));
  EXPECT_EQ(words_of("2,500 people"), (std::vector<std::string>{"two", "thousand", "five", "hundred", "people"}));
  EXPECT_EQ(words_of("1.5"), (std::vector<std::string>{"one", "point", "five"}));
  EXPECT_EQ(words_of("2026"), (std::vector<std::string>{"two", "thousand", "twenty", "six"}));
  EXPECT_EQ(number_words("115"), (std::vector<std::string>{"one", "hundred", "fifteen"}));
}

TEST(Spoken, TokensPointBackAtTheirTextAndMarkSentenceStarts) {
  const std::string text = "Hello there. 42 is it? Yes";
  auto t = spoken_tokens(text);
  ASSERT_EQ(t.size(), 7U);
  EXPECT_EQ(text.substr(t[0].begin, t[0].end - t[0].begin), "Hello");
  EXPECT_TRUE(t[0].sentence_start);
  EXPECT_FALSE(t[1].sentence_start);
  EXPECT_TRUE(t[2].sentence_start);  // "forty"
  EXPECT_EQ(text.substr(t[3].begin, t[3].end - t[3].begin), "42") << "both number words point at the digits";
  EXPECT_TRUE(t[6].sentence_start);
}

TEST(Spoken, AbbreviationsAndInitialsDoNotEndSentences) {
  auto t = spoken_tokens("Ask Dr. Smith and J. K. Rowling, e.g. today. Then go.");
  std::vector<std::string> starts;
  for (const auto& x : t) {
    if (x.sentence_start) starts.push_back(x.word);
  }
  EXPECT_EQ(starts, (std::vector<std::string>{"ask", "then"}));
  EXPECT_EQ(t[1].word, "doctor") << "titles are said in full";
  EXPECT_EQ(spoken_sentences("Mr. Dashwood left. He came back.").size(), 2U);
}

TEST(Spoken, NamesAreCapitalisedWordsOutsideSentenceStartsOrAlone) {
  EXPECT_EQ(names_in("Speakers: Quillfeather Abernathy and Dr. Marisol Vantreek.\nThe Club meets."),
            (std::vector<std::string>{"Quillfeather", "Abernathy", "Dr", "Marisol", "Vantreek", "Club"}));
  EXPECT_EQ(names_in("Dashwood\nElinor\nMarianne\n"), (std::vector<std::string>{"Dashwood", "Elinor", "Marianne"}))
      << "a name a line";
  EXPECT_TRUE(names_in("The end. Nothing here is a name.").empty());
}

TEST(Spoken, SentencesSplitAtClauseMarksAndLines) {
  auto s = spoken_sentences("Agenda: welcome; budget 2.5 million\nQ&A\n\nThanks.");
  ASSERT_EQ(s.size(), 5U);
  EXPECT_EQ(s[0], (std::vector<std::string>{"agenda"}));
  EXPECT_EQ(s[2], (std::vector<std::string>{"budget", "two", "point", "five", "million"}));
  EXPECT_EQ(s[3], (std::vector<std::string>{"q", "a"}));
}

}  // namespace
}  // namespace parley::words
