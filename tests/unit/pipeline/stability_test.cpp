// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/stability.h"

#include <gtest/gtest.h>

namespace parley::pipeline {
namespace {

using W = std::vector<std::string>;

TEST(RetractionMeter, CountsWordsTakenBack) {
  RetractionMeter m;
  m.show(W{"the"});
  m.show(W{"the", "quick"});
  m.show(W{"the", "quick", "brown"});
  m.show(W{"the", "quack"});  // "quick" and "brown" retracted, "quack" shown
  auto c = m.finish(W{"The", "quick", "brown", "fox."});  // "quack" retracted; case and punctuation do not count
  EXPECT_EQ(c.retracted, 3U);
  EXPECT_EQ(c.shown, 1U + 1 + 1 + 1 + 3);
  EXPECT_NEAR(c.rate(), 3.0 / 7.0, 1e-9);
  EXPECT_EQ(m.count().shown, 0U) << "the meter starts afresh for the next utterance";
}

TEST(RetractionMeter, AWordDroppedAtTheStartIsOneRetraction) {
  RetractionMeter m;
  m.show(W{"the", "mr", "john", "dashwood"});
  auto c = m.finish(W{"mr", "john", "dashwood", "had"});
  EXPECT_EQ(c.retracted, 1U) << "only 'the' was taken back";
  EXPECT_EQ(c.shown, 5U);
}

TEST(RetractionMeter, AStableStreamRetractsNothing) {
  RetractionMeter m;
  m.show(W{"hello"});
  m.show(W{"hello", "world"});
  auto c = m.finish(W{"hello", "world"});
  EXPECT_EQ(c.retracted, 0U);
  EXPECT_EQ(c.shown, 2U);
  EXPECT_EQ(RetractionCount{}.rate(), 0.0);
}

TEST(LocalAgreement, ShowsOnlyWhatTwoHypothesesAgreeOn) {
  LocalAgreement la;
  EXPECT_TRUE(la.update(W{"the", "quack"}).empty()) << "one hypothesis agrees with nothing";
  EXPECT_EQ(la.update(W{"the", "quick", "brow"}), (W{"the"}));
  EXPECT_EQ(la.update(W{"the", "quick", "brown", "fox"}), (W{"the", "quick"}));
  EXPECT_EQ(la.update(W{"the", "quick", "brown", "fox", "jumps"}), (W{"the", "quick", "brown", "fox"}));
  EXPECT_EQ(la.update(W{"a", "quick"}), (W{"the", "quick", "brown", "fox"})) << "shown words are never taken back";
  la.reset();
  EXPECT_TRUE(la.update(W{"new"}).empty());
}

TEST(LocalAgreement, RetractsLessThanRawHypotheses) {
  // A recogniser that keeps revising its last word.
  const std::vector<W> hyps = {{"i"}, {"i", "sea"}, {"i", "see", "the"}, {"i", "see", "a", "bird"},
                               {"i", "see", "a", "bird", "fly"}, {"i", "see", "a", "bird", "flying"}};
  const W final_words = {"i", "see", "a", "bird", "flying"};
  RetractionMeter raw, shown;
  LocalAgreement la;
  for (const auto& h : hyps) {
    raw.show(h);
    const auto& d = la.update(h);
    if (!d.empty()) shown.show(d);
  }
  const auto r = raw.finish(final_words), s = shown.finish(final_words);
  EXPECT_GT(r.retracted, s.retracted);
  EXPECT_EQ(s.retracted, 0U);
}

TEST(SplitWords, SplitsOnWhitespace) {
  EXPECT_EQ(split_words("  a  b\\tc "), (W{"a", "b\\tc"}));
  EXPECT_EQ(split_words("a b\tc"), (W{"a", "b", "c"}));
  EXPECT_TRUE(split_words("").empty());
}

}  // namespace
}  // namespace parley::pipeline
