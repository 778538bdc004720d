// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "transcript/captions.h"
#include "transcript/wer.h"

namespace parley::transcript {
namespace {

TEST(Captions, WebVttAndSrt) {
  std::vector<Cue> cues = {{0, 1500, "Hola."}, {3723004, 3724000, "a --> b\nc"}};
  EXPECT_EQ(to_webvtt(cues),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHola.\n\n"
            "01:02:03.004 --> 01:02:04.000\na -> b c\n\n");
  EXPECT_EQ(to_srt({{100, 50, "x"}}), "1\n00:00:00,100 --> 00:00:00,600\nx\n\n");
}

TEST(Captions, WebVttCueTextIsTextNotTags) {
  EXPECT_EQ(to_webvtt({{0, 1000, "<b>Ana</b> & Bea: 3 < 4"}}),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n&lt;b>Ana&lt;/b> &amp; Bea: 3 &lt; 4\n\n");
  EXPECT_EQ(to_srt({{0, 1000, "A & B"}}), "1\n00:00:00,000 --> 00:00:01,000\nA & B\n\n") << "SRT has no escapes";
}

TEST(Wer, CountsEditOperations) {
  auto ref = normalise_words("Mister John, he was here!");
  EXPECT_EQ(ref, (std::vector<std::string>{"mister", "john", "he", "was", "here"}));
  auto hyp = normalise_words("mr john he is here today");
  auto c = word_errors(ref, hyp);
  EXPECT_EQ(c.n_reference, 5U);
  EXPECT_EQ(c.n_substitutions, 1U);
  EXPECT_EQ(c.n_insertions, 1U);
  EXPECT_EQ(c.n_deletions, 0U);
  EXPECT_DOUBLE_EQ(c.wer(), 0.4);
  EXPECT_EQ(word_errors(ref, {}).n_deletions, 5U);
}

}  // namespace
}  // namespace parley::transcript
