// SPDX-License-Identifier: GPL-3.0-or-later
// Subscribers of one session grouped by language. A broadcast takes the
// language's current subscriber lists (immutable snapshots, replaced on join
// and leave) and hands the one shared message to each: no per-listener
// serialisation, no lock held while delivering.
//
// Each language's subscribers are split over kShards lists by address, so a
// join or leave copies 1/kShards of the language, not all of it: ten thousand
// listeners joining cost O(N²/kShards) pointer copies instead of O(N²).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fanout/dispatcher.h"
#include "fanout/message.h"

namespace parley::fanout {

class Hub {
 public:
  static constexpr size_t kShards = 64;
  using List = std::vector<std::shared_ptr<Subscriber>>;

  // Without a dispatcher, broadcasts deliver on the calling thread.
  void set_dispatcher(std::shared_ptr<Dispatcher> d) { dispatcher_ = std::move(d); }

  // Thread-safe. Returns the number of subscribers of that language after the change.
  size_t add(const std::string& language, std::shared_ptr<Subscriber> s);
  size_t remove(const std::string& language, const Subscriber* s);

  void broadcast(const std::string& language, const MessagePtr& m) const;
  void broadcast_all(const MessagePtr& m) const;
  void close_all(const std::string& reason) const;
  // Forgets every subscriber (breaks ownership cycles at the end of a session).
  void clear();

  size_t count(const std::string& language) const;
  std::map<std::string, size_t> counts() const;
  size_t total() const;

 private:
  struct Language {
    std::array<std::shared_ptr<const List>, kShards> shards;
    size_t size = 0;
  };
  using Snapshot = std::array<std::shared_ptr<const List>, kShards>;
  static size_t shard_of(const Subscriber* s);
  // Calls fn(subscriber) for every subscriber of the snapshot, shard by
  // shard, on the shard's lane when there is a dispatcher.
  template <class Fn>
  void each(const Snapshot& snap, Fn fn) const {
    for (size_t k = 0; k < snap.size(); ++k) {
      const auto& shard = snap[k];
      if (!shard) continue;
      if (dispatcher_) {
        dispatcher_->dispatch(k % dispatcher_->lanes(), [shard, fn] {
          for (const auto& s : *shard) fn(*s);
        });
      } else {
        for (const auto& s : *shard) fn(*s);
      }
    }
  }
  mutable std::mutex mu_;
  std::map<std::string, Language> by_language_;
  std::shared_ptr<Dispatcher> dispatcher_;
};

}  // namespace parley::fanout
