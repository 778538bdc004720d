// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/async_store.h"

#include "core/clock.h"
#include "core/log.h"

namespace parley::store {

namespace {
// A refused write is tried again for this long (pauses growing to 2 s).
constexpr auto kRetryFor = std::chrono::seconds(60);
// At shutdown, what the store has not taken by then is dropped (counted).
constexpr auto kDrainFor = std::chrono::seconds(10);
// Places kept free for writes that must not be dropped (a session's state).
constexpr size_t kReserved = 256;
}  // namespace

AsyncStore::AsyncStore(std::shared_ptr<Store> inner, size_t capacity, std::chrono::milliseconds probe_every,
                       std::chrono::milliseconds stall_after)
    : inner_(std::move(inner)), queue_(capacity, core::Overflow::reject), probe_every_(probe_every),
      stall_after_(stall_after) {
  writer_ = std::thread([this] { run(); });
}

AsyncStore::~AsyncStore() {
  queue_.close();
  writer_.join();
}

void AsyncStore::run() {
  for (;;) {
    auto w = queue_.pop_for(probe_every_);
    if (!w) {
      if (queue_.closed()) return;  // closed and drained
      // Idle: a read tells whether the store still answers.
      busy_since_us_ = core::now_us();
      auto probe = inner_->find_session("000000");
      busy_since_us_ = 0;
      note(probe.status(), "probe");
      continue;
    }
    if (queue_.closed()) {
      // Shutting down: a store that does not take what is left in time
      // would hold the process for ever.
      if (drain_deadline_ == std::chrono::steady_clock::time_point{}) {
        drain_deadline_ = std::chrono::steady_clock::now() + kDrainFor;
      }
      if (std::chrono::steady_clock::now() > drain_deadline_) {
        ++abandoned_;
        continue;
      }
    }
    // A store that refuses for a while (locked by another process, a full
    // disk being cleared) gets the same write again, with growing pauses, for
    // about a minute; meanwhile health() says so and new writes queue up. A
    // write that would fail again (a broken constraint) is not retried.
    const auto first_try = std::chrono::steady_clock::now();
    busy_since_us_ = core::now_us();
    core::Status st = (*w)(*inner_);
    for (int attempt = 1; !st && st.retry_after_s() > 0 && !queue_.closed() &&
                          std::chrono::steady_clock::now() - first_try < kRetryFor;
         ++attempt) {
      note(st, "write");
      ++retried_;
      std::this_thread::sleep_for(std::min(std::chrono::milliseconds(100) * attempt, std::chrono::milliseconds(2000)));
      st = (*w)(*inner_);
    }
    busy_since_us_ = 0;
    if (st) ++written_;
    else ++failed_;
    note(st, "write");
    {
      std::lock_guard lock(flush_mu_);
      ++applied_;
    }
    flush_cv_.notify_all();
  }
}

void AsyncStore::note(const core::Status& st, const char* what) {
  std::lock_guard lock(health_mu_);
  if (!st && last_error_) core::log_error("store", std::string(what) + " failed: " + st.message());
  last_error_ = st;
}

core::Status AsyncStore::enqueue(Write w, bool essential) {
  {
    std::lock_guard lock(flush_mu_);
    // Ordinary writes leave the last places to essential ones.
    const size_t limit = essential ? queue_.capacity() : queue_.capacity() - std::min(kReserved, queue_.capacity() / 2);
    if (!queue_.push(std::move(w), limit)) {
      return core::resource_exhausted("the store is " + std::to_string(queue_.capacity()) +
                                      " writes behind; this one was dropped");
    }
    ++queued_;
  }
  return {};
}

void AsyncStore::flush() {
  std::unique_lock lock(flush_mu_);
  const uint64_t target = queued_;
  flush_cv_.wait(lock, [&] { return applied_ >= target; });
}

core::Status AsyncStore::health() const {
  const int64_t since = busy_since_us_.load();
  if (since != 0 && core::now_us() - since > stall_after_.count() * 1000) {
    return core::unavailable("the store has not finished an operation for " +
                             std::to_string((core::now_us() - since) / 1000) + " ms (locked or stuck)");
  }
  std::lock_guard lock(health_mu_);
  if (!last_error_) return core::unavailable("the store failed: " + last_error_.message());
  if (queue_.depth() >= queue_.capacity() - std::min(kReserved, queue_.capacity() / 2)) {
    return core::unavailable("the store's write queue is full");
  }
  return {};
}

AsyncStoreStats AsyncStore::stats() const {
  return {queue_.depth(), queue_.capacity(), written_.load(), failed_.load(), queue_.n_dropped() + abandoned_.load(),
          retried_.load()};
}

core::Result<int64_t> AsyncStore::create_session(const session::SessionInfo& info, const std::string& token_hash) {
  return inner_->create_session(info, token_hash);
}

core::Status AsyncStore::set_state(int64_t session_id, session::State state, int64_t at_ms) {
  // Essential: a session whose end was never written stays open to readers.
  return enqueue([=](Store& s) { return s.set_state(session_id, state, at_ms); }, true);
}

core::Status AsyncStore::add_utterance(int64_t session_id, const HistoryItem& item) {
  return enqueue([session_id, item](Store& s) { return s.add_utterance(session_id, item); });
}

core::Status AsyncStore::add_translation(int64_t session_id, int64_t seq, const TranslationRow& t) {
  return enqueue([session_id, seq, t](Store& s) { return s.add_translation(session_id, seq, t); });
}

core::Result<std::optional<StoredSession>> AsyncStore::find_session(const std::string& code) {
  return inner_->find_session(code);
}

core::Result<std::vector<HistoryItem>> AsyncStore::history(int64_t session_id, int64_t after_seq, size_t limit) {
  return inner_->history(session_id, after_seq, limit);
}

core::Result<std::map<std::string, double>> AsyncStore::metrics(int64_t session_id) {
  return inner_->metrics(session_id);
}

core::Status AsyncStore::set_metric(int64_t session_id, const std::string& key, double value) {
  return enqueue([session_id, key, value](Store& s) { return s.set_metric(session_id, key, value); });
}

core::Status AsyncStore::add_timings(int64_t session_id, int64_t seq, const std::vector<StageTiming>& timings) {
  return enqueue([session_id, seq, timings](Store& s) { return s.add_timings(session_id, seq, timings); });
}

core::Result<int> AsyncStore::end_interrupted_sessions(int64_t at_ms) { return inner_->end_interrupted_sessions(at_ms); }

core::Status AsyncStore::set_transcript_public(int64_t session_id, bool is_public) {
  return enqueue([=](Store& s) { return s.set_transcript_public(session_id, is_public); }, true);
}

core::Result<int> AsyncStore::delete_ended_before(int64_t at_ms) { return inner_->delete_ended_before(at_ms); }

core::Status AsyncStore::save_conversation_member(const ConversationMember& m) {
  return enqueue([m](Store& s) { return s.save_conversation_member(m); }, true);
}

core::Result<std::optional<StoredConversation>> AsyncStore::find_conversation(const std::string& code) {
  return inner_->find_conversation(code);
}

}  // namespace parley::store
