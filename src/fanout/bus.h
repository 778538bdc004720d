// SPDX-License-Identifier: GPL-3.0-or-later
// How a session's events reach the other nodes. The node that runs a
// session's pipeline publishes each event once on the session's topic; every
// node with listeners of that session subscribes once and fans out locally
// (fanout::Hub): the bus carries one copy per node, never one per listener.
// Two implementations: LocalBus (one process: a single node, and tests
// that run several "nodes" in one process) and RedisBus (Redis pub/sub,
// with a bounded Redis Stream per topic for what is kept).
//
// A topic's kept messages (captions, state changes: `keep`) form its log. A
// subscriber receives the log first, then the live messages, in order, and
// after a lost connection the bus fills the gap from the log, so nothing
// kept is missed or repeated. Messages not kept (partials, speech) are live
// only: lost while a connection is down.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::fanout {

class Bus {
 public:
  virtual ~Bus() = default;

  // Called with each message, one call at a time per subscription, on a
  // thread of the bus: it must not block.
  using Handler = std::function<void(std::string_view message)>;
  // Unsubscribes when destroyed; no call starts afterwards (one in
  // progress on another thread may finish).
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };

  // Thread-safe; never blocks. While the bus is disconnected, kept messages
  // wait in a bounded queue (full: the oldest goes, counted) and the others
  // are dropped, counted.
  virtual void publish(const std::string& topic, std::string message, bool keep) = 0;
  // A kept message from the holder of `lease` with fence `token`: refused
  // (counted as dropped) once a newer fence of that lease was handed out, so
  // a node that lost its session while cut off cannot add to its log when it
  // is back. The lease must be on the topic's server (several Redis: both
  // are named by the session's code). Without a fencing store: publish.
  virtual void publish_fenced(const std::string& topic, std::string message, const std::string& lease,
                              int64_t token) {
    (void)lease;
    (void)token;
    publish(topic, std::move(message), true);
  }
  // `caught_up` (optional) is called once, on a thread of the bus, when the
  // log has been delivered: from then on what comes is live.
  virtual std::unique_ptr<Subscription> subscribe(const std::string& topic, Handler handler,
                                                  std::function<void()> caught_up = {}) = 0;
  // Lets the topic's log expire `after_ms` from now (a session that ended).
  virtual void retire(const std::string& topic, int64_t after_ms) = 0;

  // A small shared table (the directory of live sessions): set, erase and a
  // watch that gets every entry now and each change after (value nullopt:
  // erased). Watches are called on a thread of the bus.
  using Watch = std::function<void(const std::string& key, const std::optional<std::string>& value)>;
  virtual void put(const std::string& table, const std::string& key, std::string value) = 0;
  virtual void erase(const std::string& table, const std::string& key) = 0;
  virtual std::unique_ptr<Subscription> watch(const std::string& table, Watch watch) = 0;

  // Leases: at most one holder of `name` at a time, for ttl_ms unless
  // renewed. `done` gets the lease's fencing token (higher than any earlier
  // holder's) or nullopt when another holds it. Renewal keeps the token;
  // done(nullopt) when the lease was lost. Called on a thread of the bus.
  using LeaseDone = std::function<void(std::optional<int64_t> fence)>;
  virtual void acquire(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) = 0;
  virtual void renew(const std::string& name, const std::string& holder, int64_t ttl_ms, LeaseDone done) = 0;
  virtual void release(const std::string& name, const std::string& holder) = 0;

  // What the bus did, for /metrics.
  struct Stats {
    uint64_t published = 0;       // messages handed to the transport
    uint64_t received = 0;        // messages delivered to subscriptions
    uint64_t dropped = 0;         // lost: disconnected (live ones) or the queue was full (kept ones)
    uint64_t gap_fills = 0;       // kept messages read back from a log after a lost connection
    uint64_t reconnects = 0;
    bool connected = true;
  };
  virtual Stats stats() const = 0;
};

}  // namespace parley::fanout
