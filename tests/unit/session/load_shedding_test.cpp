// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/load_shedding.h"

#include <gtest/gtest.h>

namespace parley::session {
namespace {

TEST(LoadShedder, StepsFollowTheDeclaredOrderAsTheWorkerFallsBehind) {
  ShedCounters counters;
  LoadShedder s;
  s.count_into(&counters);
  ShedStep newly = ShedStep::none;
  EXPECT_EQ(s.update(200, &newly), ShedStep::none);
  EXPECT_EQ(s.update(1200, &newly), ShedStep::partial_translations);
  EXPECT_EQ(newly, ShedStep::partial_translations);
  newly = ShedStep::none;
  EXPECT_EQ(s.update(1500, &newly), ShedStep::partial_translations);
  EXPECT_EQ(newly, ShedStep::none) << "logged once per episode";
  EXPECT_EQ(s.update(3500, &newly), ShedStep::partials);
  EXPECT_EQ(newly, ShedStep::partials);
  // Skipping a level still counts it: the order is the order.
  EXPECT_EQ(counters.episodes[static_cast<size_t>(ShedStep::speech)].load(), 1U);
  EXPECT_EQ(s.dropped_audio(&newly), ShedStep::oldest_audio);
}

TEST(LoadShedder, ItHoldsItsStepUntilCaughtUpThenUndoesEverything) {
  LoadShedder s;
  s.update(2500);
  EXPECT_EQ(s.update(1500), ShedStep::speech) << "no flapping on the way down";
  EXPECT_EQ(s.update(400), ShedStep::speech);
  EXPECT_FALSE(s.caught_up());
  EXPECT_EQ(s.update(250), ShedStep::none);
  EXPECT_TRUE(s.caught_up());
  EXPECT_EQ(s.update(100), ShedStep::none);
  EXPECT_FALSE(s.caught_up());
}

TEST(LoadShedder, EachEpisodeCountsOnce) {
  ShedCounters counters;
  LoadShedder s;
  s.count_into(&counters);
  for (int episode = 0; episode < 3; ++episode) {
    for (int64_t behind : {1100, 1300, 1800, 900, 100}) s.update(behind);
  }
  EXPECT_EQ(counters.episodes[static_cast<size_t>(ShedStep::partial_translations)].load(), 3U);
  EXPECT_EQ(counters.episodes[static_cast<size_t>(ShedStep::speech)].load(), 0U);
}

}  // namespace
}  // namespace parley::session
