// SPDX-License-Identifier: GPL-3.0-or-later
// The bus between nodes on Redis (docs/scaling.md). Two connections, driven
// by an Asio loop on a thread of the bus; hiredis formats commands and parses
// replies, Asio does the I/O:
//   - commands: a kept message is one script that appends it to the topic's
//     Stream ("<topic>:log", capped near log_length) and publishes it with
//     its Stream id; other messages are a plain PUBLISH. The directory is a
//     hash with a change channel; leases are keys with a TTL and a fencing
//     counter, changed by scripts so each step is atomic.
//   - subscriptions: SUBSCRIBE once per topic, whatever the number of
//     listeners. Once Redis confirms, the log is read from the last id this
//     node delivered (XRANGE), then the messages that arrived meanwhile:
//     on the first subscribe that is the whole log, after a lost
//     connection it is the gap. Nothing kept is missed or repeated.
// A lost connection is retried (0.1 s, doubling to 2 s); meanwhile kept
// messages wait in a bounded queue (full: the oldest goes, counted) and
// live ones are dropped, counted.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/status.h"
#include "fanout/bus.h"

namespace parley::fanout {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  size_t log_length = 5000;    // kept messages per topic (approximately: MAXLEN ~)
  size_t queue_limit = 10000;  // kept messages waiting while disconnected
  // AUTH on every connection when the password is set (Redis's
  // requirepass, or an ACL user when `user` is set too).
  std::string user, password;
};

// Parses "redis://[user:password@]host:port", "[user:password@]host:port" or
// "host" (":password@host:port" for requirepass without a user).
core::Result<RedisOptions> parse_redis_address(const std::string& address);

class RedisBus final : public Bus {
 public:
  // Starts the bus's thread and connects in the background (publish and
  // subscribe work before the connection is up).
  static std::shared_ptr<RedisBus> start(RedisOptions options);
  ~RedisBus() override;
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  // Waits up to timeout_ms for both connections (start-up, tests).
  bool wait_connected(int timeout_ms) const;

  void publish(const std::string& topic, std::string message, bool keep) override;
  void publish_fenced(const std::string& topic, std::string message, const std::string& lease,
                      int64_t token) override;
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

  class Impl;

 private:
  explicit RedisBus(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::fanout
