// SPDX-License-Identifier: GPL-3.0-or-later
// A Store whose writes never block the caller: they wait in a bounded queue
// for one writer thread, which applies them in order. Reads and
// create_session go straight to the wrapped store and block: callers make
// them from the blocking pool or a session worker, never from a network
// thread.
//
// Overflow: a write that finds the queue full is refused
// (resource_exhausted) and counted; the live session keeps its in-memory
// history either way. The last 256 places are kept for writes that must not
// be dropped (a session's state, a published transcript). A write the store
// refuses for a reason that may pass (a lock held by another process, a full
// disk) is tried again for about a minute, then counted as failed and
// logged; one that would fail again is not retried. At shutdown the writer
// gives the store 10 s to take what is queued, then drops the rest (counted). When the writer has had nothing to do for a while it
// probes the store with a read, so health() notices a store that stopped
// answering even when nobody writes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/bounded_queue.h"
#include "store/store.h"

namespace parley::store {

struct AsyncStoreStats {
  size_t depth = 0;          // writes waiting
  size_t capacity = 0;
  uint64_t written = 0;      // writes applied
  uint64_t failed = 0;       // writes the store refused (logged)
  uint64_t dropped = 0;      // writes refused because the queue was full
  uint64_t retried = 0;      // attempts made again after the store refused for a reason that may pass
};

class AsyncStore final : public Store {
 public:
  AsyncStore(std::shared_ptr<Store> inner, size_t capacity = 10000,
             std::chrono::milliseconds probe_every = std::chrono::seconds(2),
             std::chrono::milliseconds stall_after = std::chrono::seconds(2));
  // Applies every queued write, then stops the writer.
  ~AsyncStore() override;

  core::Result<int64_t> create_session(const session::SessionInfo& info, const std::string& token_hash) override;
  core::Status set_state(int64_t session_id, session::State state, int64_t at_ms) override;
  core::Status add_utterance(int64_t session_id, const HistoryItem& item) override;
  core::Status add_translation(int64_t session_id, int64_t seq, const TranslationRow& t) override;
  core::Result<std::optional<StoredSession>> find_session(const std::string& code) override;
  core::Result<std::vector<HistoryItem>> history(int64_t session_id, int64_t after_seq, size_t limit) override;
  core::Status set_metric(int64_t session_id, const std::string& key, double value) override;
  core::Result<std::map<std::string, double>> metrics(int64_t session_id) override;
  core::Status add_timings(int64_t session_id, int64_t seq, const std::vector<StageTiming>& timings) override;
  core::Result<int> end_interrupted_sessions(int64_t at_ms) override;
  // Kept (essential): a conversation's export after its end needs it.
  core::Status save_conversation_member(const ConversationMember& m) override;
  core::Result<std::optional<StoredConversation>> find_conversation(const std::string& code) override;
  core::Status set_transcript_public(int64_t session_id, bool is_public) override;
  // Blocks (it deletes at once and returns the count): call it from the
  // reaper, not a network thread.
  core::Result<int> delete_ended_before(int64_t at_ms) override;

  // Without I/O: unavailable when the last write or probe failed (until one
  // succeeds), when the one in progress has taken longer than stall_after
  // (a locked or stuck database), or when the queue is full.
  core::Status health() const override;
  AsyncStoreStats stats() const;
  // Waits until every write queued before the call has been applied (tests, shutdown).
  void flush();

 private:
  using Write = std::function<core::Status(Store&)>;
  // essential: may use the places kept free for writes that must not be dropped.
  core::Status enqueue(Write w, bool essential = false);
  void run();
  void note(const core::Status& st, const char* what);

  std::shared_ptr<Store> inner_;
  core::BoundedQueue<Write> queue_;
  std::chrono::milliseconds probe_every_, stall_after_;
  std::atomic<uint64_t> written_{0}, failed_{0}, abandoned_{0}, retried_{0};
  std::chrono::steady_clock::time_point drain_deadline_{};  // writer thread only
  std::atomic<int64_t> busy_since_us_{0};  // 0: idle
  mutable std::mutex health_mu_;
  core::Status last_error_;  // guarded by health_mu_; ok once an operation succeeds again
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  uint64_t queued_ = 0, applied_ = 0;  // guarded by flush_mu_
  std::thread writer_;
};

}  // namespace parley::store
