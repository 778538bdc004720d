// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/async_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_store.h"

namespace parley::store {
namespace {

using namespace std::chrono_literals;

// A real SQLite store whose writes can be held (as if another process held
// the lock) or made to fail.
class HeldStore final : public Store {
 public:
  HeldStore() : inner_(std::move(*open_sqlite_store(":memory:"))) {}
  void hold(bool on) {
    {
      std::lock_guard lock(mu_);
      held_ = on;
    }
    cv_.notify_all();
  }
  std::atomic<int> failures_left{0};
  bool failures_pass = true;  // like a lock (worth retrying), or like a broken constraint

  core::Result<int64_t> create_session(const session::SessionInfo& info, const std::string& h) override {
    return inner_->create_session(info, h);
  }
  core::Status set_state(int64_t id, session::State st, int64_t at) override {
    wait();
    return inner_->set_state(id, st, at);
  }
  core::Status add_utterance(int64_t id, const HistoryItem& item) override {
    wait();
    if (failures_left > 0) {
      --failures_left;
      if (!failures_pass) return core::unavailable("FOREIGN KEY constraint failed");
      return core::unavailable("database is locked").with_retry_after(1);
    }
    return inner_->add_utterance(id, item);
  }
  core::Status add_translation(int64_t id, int64_t seq, const TranslationRow& t) override {
    return inner_->add_translation(id, seq, t);
  }
  core::Result<std::optional<StoredSession>> find_session(const std::string& code) override {
    return inner_->find_session(code);
  }
  core::Result<std::vector<HistoryItem>> history(int64_t id, int64_t after, size_t limit) override {
    return inner_->history(id, after, limit);
  }
  core::Status set_metric(int64_t id, const std::string& k, double v) override { return inner_->set_metric(id, k, v); }
  core::Result<std::map<std::string, double>> metrics(int64_t id) override { return inner_->metrics(id); }
  core::Status add_timings(int64_t id, int64_t seq, const std::vector<StageTiming>& t) override {
    return inner_->add_timings(id, seq, t);
  }
  core::Result<int> end_interrupted_sessions(int64_t at) override { return inner_->end_interrupted_sessions(at); }
  core::Status set_transcript_public(int64_t id, bool p) override { return inner_->set_transcript_public(id, p); }
  core::Result<int> delete_ended_before(int64_t at) override { return inner_->delete_ended_before(at); }
  core::Status save_conversation_member(const ConversationMember& m) override {
    return inner_->save_conversation_member(m);
  }
  core::Result<std::optional<StoredConversation>> find_conversation(const std::string& code) override {
    return inner_->find_conversation(code);
  }

 private:
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !held_; });
  }
  std::unique_ptr<Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
};

session::SessionInfo info() {
  session::SessionInfo i;
  i.code = "123456";
  i.spec.name = "t";
  i.spec.source_language = "en";
  return i;
}

HistoryItem item(int64_t seq) {
  HistoryItem h;
  h.seq = seq;
  h.source_text = "utterance " + std::to_string(seq);
  return h;
}

TEST(AsyncStore, WritesDoNotWaitForTheDatabaseAndArriveInOrder) {
  auto held = std::make_shared<HeldStore>();
  AsyncStore store(held, 100, 10s, 50ms);
  auto id = store.create_session(info(), "hash");
  ASSERT_TRUE(id.is_ok());
  held->hold(true);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t seq = 1; seq <= 20; ++seq) ASSERT_TRUE(store.add_utterance(*id, item(seq)));
  // A caller that waited would wait for ever (the store is held until
  // below): the bound only has to be finite, with room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the caller never waits for the lock";
  // Stuck until released: however long the writer takes to start, it says so.
  bool unhealthy = false;
  for (auto until = std::chrono::steady_clock::now() + 5s; !unhealthy && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(20ms);
    unhealthy = !store.health();
  }
  EXPECT_TRUE(unhealthy) << "a write stuck for longer than the stall limit";
  held->hold(false);
  store.flush();
  EXPECT_TRUE(store.health());
  auto rows = store.history(*id, 0, 100);
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 20u);
  for (size_t i = 0; i < rows->size(); ++i) EXPECT_EQ((*rows)[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(store.stats().written, 20u);
}

TEST(AsyncStore, AFullQueueRefusesAndCountsInsteadOfGrowing) {
  auto held = std::make_shared<HeldStore>();
  AsyncStore store(held, 5, 10s, 10s);
  auto id = store.create_session(info(), "hash");
  held->hold(true);
  int refused = 0;
  for (int64_t seq = 1; seq <= 20; ++seq) refused += store.add_utterance(*id, item(seq)).code() == core::Code::resource_exhausted;
  EXPECT_GE(refused, 14);  // five wait, one may be in the writer's hands
  EXPECT_EQ(store.stats().dropped, static_cast<uint64_t>(refused));
  EXPECT_FALSE(store.health()) << "a full queue is not healthy";
  held->hold(false);
  store.flush();
}

TEST(AsyncStore, AWriteThatWouldFailAgainIsNotRetried) {
  auto held = std::make_shared<HeldStore>();
  AsyncStore store(held, 100, 10s, 10s);
  auto id = store.create_session(info(), "hash");
  held->failures_pass = false;
  held->failures_left = 1;
  ASSERT_TRUE(store.add_utterance(*id, item(1)));
  ASSERT_TRUE(store.add_utterance(*id, item(2)));
  store.flush();
  EXPECT_EQ(store.stats().retried, 0u) << "no second try (nor its pause) for a write that cannot succeed";
  EXPECT_EQ(store.stats().failed, 1u);
  EXPECT_EQ(store.history(*id, 0, 10)->size(), 1u) << "the next write is not held up";
}

TEST(AsyncStore, ARefusedWriteIsRetriedNotLost) {
  auto held = std::make_shared<HeldStore>();
  AsyncStore store(held, 100, 10s, 10s);
  auto id = store.create_session(info(), "hash");
  held->failures_left = 3;
  ASSERT_TRUE(store.add_utterance(*id, item(1)));
  store.flush();
  auto rows = store.history(*id, 0, 10);
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_EQ(store.stats().failed, 0u);
  EXPECT_TRUE(store.health());
}

}  // namespace
}  // namespace parley::store
