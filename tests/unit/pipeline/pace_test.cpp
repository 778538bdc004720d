// SPDX-License-Identifier: GPL-3.0-or-later
// The pace controller on a simulated clock: a speaker who never stops, and
// translations longer than their source.
#include "pipeline/pace.h"

#include <gtest/gtest.h>

#include <vector>

namespace parley::pipeline {
namespace {

struct Run {
  std::vector<double> rates;
  std::vector<int64_t> waits, end_lags;
  int skipped = 0;
  int trimmed_edges = 0;
};

// `n` utterances of `source_ms` each, `pause_ms` apart; each one's speech
// lasts `stretch` × its source at rate 1 (less `edge_ms` of silence at each
// end when trimmed) and is ready `work_ms` after its source ends.
Run talk(PaceConfig config, int n, int64_t source_ms, int64_t pause_ms, double stretch, int64_t work_ms = 300) {
  PaceController pace(config);
  Run run;
  int64_t t = 0;
  constexpr int64_t kEdgeMs = 150;  // the voice's own silence at each end
  for (int i = 0; i < n; ++i) {
    t += source_ms;
    const int64_t source_end = t;
    const int64_t ready = t + work_ms;
    auto plan = pace.plan(ready, source_end);
    if (!plan.speak) {
      ++run.skipped;
    } else {
      int64_t ms = static_cast<int64_t>(static_cast<double>(source_ms) * stretch / plan.rate) + 2 * kEdgeMs;
      if (plan.edge_ms >= 0) {
        ms -= 2 * (kEdgeMs - plan.edge_ms);
        ++run.trimmed_edges;
      }
      auto lag = pace.scheduled(ready, source_end, ms);
      run.rates.push_back(plan.rate);
      run.waits.push_back(lag.wait_ms);
      run.end_lags.push_back(lag.end_ms);
    }
    t += pause_ms;
  }
  return run;
}

TEST(Pace, WithoutTheControllerALongerTranslationDriftsFurtherBehind) {
  auto run = talk({.enabled = false}, 100, 3000, 250, 1.2);
  ASSERT_EQ(run.waits.size(), 100U);
  EXPECT_GT(run.waits.back(), 30000) << "after 100 utterances the listener hears the speaker half a minute late";
  for (size_t i = 1; i < run.waits.size(); ++i) EXPECT_GE(run.waits[i], run.waits[i - 1]);
  EXPECT_EQ(run.skipped, 0);
}

TEST(Pace, TheControllerKeepsTheWaitUnderTheBudget) {
  auto run = talk({}, 200, 3000, 250, 1.2);
  for (auto w : run.waits) EXPECT_LE(w, 3000);
  for (auto r : run.rates) {
    EXPECT_GE(r, 1.0);
    EXPECT_LE(r, 1.4);
  }
  EXPECT_GT(run.rates.back(), 1.0) << "a steady 20 % excess needs a steady faster rate";
  EXPECT_EQ(run.skipped, 0) << "a faster rate is enough for 20 %";
  EXPECT_GT(run.trimmed_edges, 0);
}

TEST(Pace, WhenSpeedingUpIsNotEnoughItSkipsAndSaysSo) {
  // Translations twice as long as the speech: past what 1.4× can absorb.
  auto run = talk({}, 100, 3000, 100, 2.0);
  EXPECT_GT(run.skipped, 0);
  for (auto w : run.waits) EXPECT_LE(w, 3000);
  EXPECT_EQ(run.waits.size() + static_cast<size_t>(run.skipped), 100U);
}

TEST(Pace, WithPausesToCatchUpNothingChanges) {
  // Long pauses between sentences: every translation is heard before the next.
  auto run = talk({}, 50, 3000, 3000, 1.2);
  EXPECT_EQ(run.skipped, 0);
  EXPECT_EQ(run.trimmed_edges, 0);
  for (auto r : run.rates) EXPECT_DOUBLE_EQ(r, 1.0);
  for (auto w : run.waits) EXPECT_EQ(w, 300);
}

TEST(Pace, TheRateRelaxesStepByStepWhenTheBacklogClears) {
  PaceController pace({});
  // Build a backlog: 8 s of speech queued at once.
  ASSERT_TRUE(pace.plan(0, 0).speak);
  pace.scheduled(0, 0, 8000);
  auto busy = pace.plan(3000, 1000);  // 2 s since the source ended + 5 s queued
  EXPECT_FALSE(busy.speak);
  // Later, the backlog is gone: the rate steps down, not back to 1 at once.
  auto p1 = pace.plan(20000, 19700);
  auto p2 = pace.plan(30000, 29700);
  EXPECT_LT(p1.rate, busy.rate);
  EXPECT_LT(p2.rate, p1.rate);
  EXPECT_NEAR(busy.rate - p1.rate, 0.1, 1e-9);
}

TEST(EdgeTrimmer, KeepsSoundAndTrimsSilenceAtBothEndsOnly) {
  EdgeTrimmer trim(2);
  std::vector<float> out;
  // Chunks: silence, sound, a pause inside the speech, sound, a long tail.
  trim.push(std::vector<float>{0, 0, 0, 0, 0}, out);
  EXPECT_TRUE(out.empty());
  trim.push(std::vector<float>{0.5F, 0.5F, 0, 0, 0}, out);
  trim.push(std::vector<float>{0, 0.5F, 0, 0, 0, 0, 0}, out);
  trim.finish(out);
  const std::vector<float> want{0, 0, 0.5F, 0.5F, 0, 0, 0, 0, 0.5F, 0, 0};
  EXPECT_EQ(out, want);
  EXPECT_EQ(trim.n_trimmed(), 3 + 3);
  EXPECT_EQ(trim.map(5), 2) << "the first sound moves to just after the kept lead";
  EXPECT_EQ(trim.map(1), 0);
}

}  // namespace
}  // namespace parley::pipeline
