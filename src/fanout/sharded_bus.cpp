// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/sharded_bus.h"

#include <stdexcept>

namespace parley::fanout {

ShardedBus::ShardedBus(std::vector<std::shared_ptr<Bus>> shards) : shards_(std::move(shards)) {
  if (shards_.empty()) throw std::invalid_argument("ShardedBus needs at least one shard");
}

size_t ShardedBus::shard_of(std::string_view name) const {
  const auto colon = name.rfind(':');
  const std::string_view key = colon == std::string_view::npos ? name : name.substr(colon + 1);
  // FNV-1a: the same on every node and every platform (std::hash is not).
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h % shards_.size());
}

void ShardedBus::publish(const std::string& topic, std::string message, bool keep) {
  of(topic).publish(topic, std::move(message), keep);
}

void ShardedBus::publish_fenced(const std::string& topic, std::string message, const std::string& lease,
                                int64_t token) {
  of(topic).publish_fenced(topic, std::move(message), lease, token);
}

std::unique_ptr<Bus::Subscription> ShardedBus::subscribe(const std::string& topic, Handler handler,
                                                         std::function<void()> caught_up) {
  return of(topic).subscribe(topic, std::move(handler), std::move(caught_up));
}

void ShardedBus::retire(const std::string& topic, int64_t after_ms) { of(topic).retire(topic, after_ms); }

void ShardedBus::put(const std::string& table, const std::string& key, std::string value) {
  shards_[0]->put(table, key, std::move(value));
}

void ShardedBus::erase(const std::string& table, const std::string& key) { shards_[0]->erase(table, key); }

std::unique_ptr<Bus::Subscription> ShardedBus::watch(const std::string& table, Watch watch) {
  return shards_[0]->watch(table, std::move(watch));
}

void ShardedBus::acquire(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) {
  of(name).acquire(name, holder, ttl_ms, std::move(done));
}

void ShardedBus::renew(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) {
  of(name).renew(name, holder, ttl_ms, std::move(done));
}

void ShardedBus::release(const std::string& name, const std::string& holder) { of(name).release(name, holder); }

Bus::Stats ShardedBus::stats() const {
  Stats sum;
  for (const auto& shard : shards_) {
    const auto s = shard->stats();
    sum.published += s.published;
    sum.received += s.received;
    sum.dropped += s.dropped;
    sum.gap_fills += s.gap_fills;
    sum.reconnects += s.reconnects;
    sum.connected = sum.connected && s.connected;
  }
  return sum;
}

}  // namespace parley::fanout
