// SPDX-License-Identifier: GPL-3.0-or-later
// Several buses as one (docs/scaling.md): sessions spread over several
// Redis servers. Every topic and lease of a session is named by its code
// ("parley:events:<code>", "parley:lease:<code>"), so all of a session's
// traffic goes to one shard, chosen by a hash of the name's last part. The
// tables (the directory of sessions) live on the first shard. Every node
// must list the same shards in the same order.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "fanout/bus.h"

namespace parley::fanout {

class ShardedBus final : public Bus {
 public:
  // `shards` is not empty; shards[0] also holds the tables.
  explicit ShardedBus(std::vector<std::shared_ptr<Bus>> shards);

  // Which shard a topic or lease name lives on.
  size_t shard_of(std::string_view name) const;

  void publish(const std::string& topic, std::string message, bool keep) override;
  void publish_fenced(const std::string& topic, std::string message, const std::string& lease,
                      int64_t token) override;
  std::unique_ptr<Subscription> subscribe(const std::string& topic, Handler handler,
                                          std::function<void()> caught_up) override;
  void retire(const std::string& topic, int64_t after_ms) override;
  void put(const std::string& table, const std::string& key, std::string value) override;
  void erase(const std::string& table, const std::string& key) override;
  std::unique_ptr<Subscription> watch(const std::string& table, Watch watch) override;
  void acquire(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) override;
  void renew(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) override;
  void release(const std::string& name, const std::string& holder) override;
  // Summed over the shards; connected while every shard is.
  Stats stats() const override;

 private:
  Bus& of(std::string_view name) const { return *shards_[shard_of(name)]; }
  std::vector<std::shared_ptr<Bus>> shards_;
};

}  // namespace parley::fanout
