// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/histogram.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace parley::core {
namespace {

TEST(Histogram, BucketsAreCumulativeAndCountEveryObservation) {
  Histogram h;
  h.observe(0.001);  // ≤ 5 ms
  h.observe(0.005);  // exactly on a bound: counted in it
  h.observe(0.3);    // ≤ 350 ms
  h.observe(60.0);   // beyond the last bound: only +Inf
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative[0], 2U);
  EXPECT_EQ(s.count(), 4U);
  EXPECT_EQ(s.cumulative[Histogram::kBounds.size() - 1], 3U) << "60 s is above 10 s";
  for (size_t i = 1; i < s.cumulative.size(); ++i) EXPECT_GE(s.cumulative[i], s.cumulative[i - 1]);
  EXPECT_NEAR(s.sum_seconds, 60.306, 1e-6);
}

TEST(Histogram, StagesNeverReachedAreNotObserved) {
  Histogram h;
  h.observe(-0.001);  // elapsed between unset stamps
  h.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.snapshot().count(), 0U);
}

TEST(Histogram, QuantileBoundIsTheBucketHoldingTheRank) {
  Histogram h;
  for (int i = 0; i < 95; ++i) h.observe(0.02);  // ≤ 25 ms
  for (int i = 0; i < 5; ++i) h.observe(0.6);    // ≤ 700 ms
  const auto s = h.snapshot();
  EXPECT_DOUBLE_EQ(s.quantile_bound(0.5), 0.025);
  EXPECT_DOUBLE_EQ(s.quantile_bound(0.95), 0.025);
  EXPECT_DOUBLE_EQ(s.quantile_bound(0.99), 0.7);
  EXPECT_DOUBLE_EQ(Histogram{}.snapshot().quantile_bound(0.5), 0.0);
}

TEST(Histogram, ConcurrentObserversLoseNothing) {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(0.01 * (i % 7));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.snapshot().count(), 40000U);
}

}  // namespace
}  // namespace parley::core
