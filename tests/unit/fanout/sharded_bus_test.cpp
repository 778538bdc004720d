// SPDX-License-Identifier: GPL-3.0-or-later
// Sessions spread over several buses by their code: all of a session's
// topics and its lease on one shard, the directory on the first, and two
// nodes that list the same shards see each other's sessions.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fanout/local_bus.h"
#include "fanout/sharded_bus.h"

namespace parley::fanout {
namespace {

std::vector<std::shared_ptr<Bus>> three_local_buses() {
  return {std::make_shared<LocalBus>(), std::make_shared<LocalBus>(), std::make_shared<LocalBus>()};
}

TEST(ShardedBus, EveryTopicAndLeaseOfASessionIsOnOneShardAndSessionsSpreadOverAll) {
  ShardedBus bus(three_local_buses());
  std::map<size_t, int> per_shard;
  for (int i = 0; i < 3000; ++i) {
    const std::string code = std::to_string(100000 + i * 7);
    const size_t shard = bus.shard_of("parley:events:" + code);
    EXPECT_EQ(bus.shard_of("parley:audience:" + code), shard);
    EXPECT_EQ(bus.shard_of("parley:control:" + code), shard);
    EXPECT_EQ(bus.shard_of("parley:lease:" + code), shard);
    ++per_shard[shard];
  }
  ASSERT_EQ(per_shard.size(), 3U);
  for (const auto& [shard, n] : per_shard) EXPECT_NEAR(n, 1000, 150) << "shard " << shard;
}

TEST(ShardedBus, TwoNodesListingTheSameShardsMeetOnEach) {
  auto shards = three_local_buses();
  ShardedBus a(shards), b(shards);
  std::set<std::string> seen_on_b;
  std::vector<std::unique_ptr<Bus::Subscription>> subs;
  std::set<size_t> used;
  for (int i = 0; i < 30; ++i) {
    const std::string topic = "parley:events:" + std::to_string(200000 + i);
    used.insert(a.shard_of(topic));
    subs.push_back(b.subscribe(topic, [&seen_on_b, topic](std::string_view m) {
      seen_on_b.insert(topic + "=" + std::string(m));
    }, {}));
    a.publish(topic, "hello", true);
  }
  EXPECT_EQ(used.size(), 3U);
  EXPECT_EQ(seen_on_b.size(), 30U);
  // The lease of one session excludes another holder, whichever node asks.
  std::optional<int64_t> got_a, got_b = 1;
  a.acquire("parley:lease:200001", "a", 4000, [&](std::optional<int64_t> f) { got_a = f; });
  b.acquire("parley:lease:200001", "b", 4000, [&](std::optional<int64_t> f) { got_b = f; });
  EXPECT_TRUE(got_a.has_value());
  EXPECT_FALSE(got_b.has_value());
  // The directory is one table, on the first shard.
  std::map<std::string, std::optional<std::string>> directory;
  auto w = b.watch("parley:sessions", [&](const std::string& k, const std::optional<std::string>& v) {
    directory[k] = v;
  });
  a.put("parley:sessions", "200001", "{}");
  EXPECT_EQ(directory["200001"], std::optional<std::string>("{}"));
  std::map<std::string, std::optional<std::string>> on_first;
  auto w0 = shards[0]->watch("parley:sessions", [&](const std::string& k, const std::optional<std::string>& v) {
    on_first[k] = v;
  });
  EXPECT_EQ(on_first["200001"], std::optional<std::string>("{}"));
  EXPECT_EQ(a.stats().published, 30U + 0U);
}

}  // namespace
}  // namespace parley::fanout
