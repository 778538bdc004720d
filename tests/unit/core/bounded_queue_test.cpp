// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/lru_cache.h"
#include "core/status.h"

namespace parley::core {
namespace {

TEST(BoundedQueue, RejectPolicyRefusesWhenFullAndCounts) {
  BoundedQueue<int> q(2, Overflow::reject);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.n_dropped(), 1U);
  EXPECT_EQ(q.depth(), 2U);
  EXPECT_EQ(q.try_pop(), 1);
  EXPECT_EQ(q.try_pop(), 2);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(BoundedQueue, DropOldestKeepsNewest) {
  BoundedQueue<int> q(2, Overflow::drop_oldest);
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(q.push(i));
  EXPECT_EQ(q.n_dropped(), 3U);
  EXPECT_EQ(q.try_pop(), 4);
  EXPECT_EQ(q.try_pop(), 5);
}

TEST(BoundedQueue, CloseWakesConsumerAndDrains) {
  BoundedQueue<int> q(4, Overflow::reject);
  std::vector<int> got;
  std::thread consumer([&] {
    while (auto v = q.pop()) got.push_back(*v);
  });
  for (int i = 0; i < 3; ++i) q.push(i);
  q.close();
  consumer.join();
  EXPECT_FALSE(q.push(9));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  LruCache<std::string, int> c(2);
  c.put("a", 1);
  c.put("b", 2);
  EXPECT_EQ(c.get("a"), 1);  // a is now most recent
  c.put("c", 3);             // evicts b
  EXPECT_EQ(c.get("b"), std::nullopt);
  EXPECT_EQ(c.get("a"), 1);
  EXPECT_EQ(c.get("c"), 3);
  EXPECT_EQ(c.size(), 2U);
  EXPECT_EQ(c.n_evictions(), 1U);
}

TEST(Result, CarriesValueOrStatus) {
  Result<int> ok(5);
  Result<int> bad(not_found("no such pair"));
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::not_found);
  EXPECT_EQ(bad.status().message(), "no such pair");
}

}  // namespace
}  // namespace parley::core
