// SPDX-License-Identifier: GPL-3.0-or-later
// The bus inside one process: for tests that run several nodes' registries
// side by side, and the model RedisBus is checked against. Messages are
// delivered on the publisher's thread, in publish order per topic; a
// topic's log keeps the newest `log_length` kept messages.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "fanout/bus.h"

namespace parley::fanout {

class LocalBus final : public Bus {
 public:
  explicit LocalBus(size_t log_length = 10000) : log_length_(log_length) {}

  void publish(const std::string& topic, std::string message, bool keep) override;
  std::unique_ptr<Subscription> subscribe(const std::string& topic, Handler handler,
                                          std::function<void()> caught_up = {}) override;
  void retire(const std::string& topic, int64_t after_ms) override;
  void put(const std::string& table, const std::string& key, std::string value) override;
  void erase(const std::string& table, const std::string& key) override;
  std::unique_ptr<Subscription> watch(const std::string& table, Watch watch) override;
  void acquire(const std::string& name, const std::string& holder, int64_t ttl_ms,
               LeaseDone done) override;
  void renew(const std::string& name, const std::string& holder, int64_t ttl_ms,
             LeaseDone done) override;
  void release(const std::string& name, const std::string& holder) override;
  Stats stats() const override;

 private:
  class Sub;
  struct Topic {
    std::mutex deliver_mu;  // one delivery at a time, in order
    std::deque<std::string> log;
    std::vector<std::pair<uint64_t, std::shared_ptr<Handler>>> handlers;
  };
  struct Table {
    std::map<std::string, std::string> rows;
    std::vector<std::pair<uint64_t, std::shared_ptr<Watch>>> watches;
  };
  struct Lease {
    std::string holder;
    int64_t expires_ms = 0;
    int64_t fence = 0;
  };
  std::shared_ptr<Topic> topic(const std::string& name);
  void unsubscribe(const std::string& topic, uint64_t id);
  void unwatch(const std::string& table, uint64_t id);

  const size_t log_length_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Topic>> topics_;  // guarded by mu_
  std::mutex tables_mu_;                   // held while watches run: changes arrive in order
  std::map<std::string, Table> tables_;    // guarded by tables_mu_
  std::map<std::string, Lease> leases_;    // guarded by mu_
  std::map<std::string, int64_t> fences_;  // guarded by mu_
  uint64_t next_id_ = 1;                   // guarded by mu_
  Stats stats_;                            // guarded by mu_
};

}  // namespace parley::fanout
