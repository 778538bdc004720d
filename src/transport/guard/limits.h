// SPDX-License-Identifier: GPL-3.0-or-later
// Abuse limits per client address: token-bucket rate limits for the actions
// an attacker repeats (creating sessions, joining, looking up codes that do
// not exist, presenting wrong tokens or keys), and a cap on open connections.
//
// Addresses are keyed by IPv4 address or IPv6 /64 (one IPv6 client can
// rotate through a /64 at will). Thread-safe: called from every network
// thread. Memory is bounded: at most kMaxTracked addresses per table; beyond
// that, buckets that have refilled are forgotten first, and if none can be,
// the new address is refused (counted) rather than tracked.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"

namespace parley::transport::guard {

enum class Action : uint8_t { create_session, join, unknown_code, bad_credential };
inline constexpr size_t kActions = 4;
const char* action_name(Action a);

struct Rate {
  double per_minute = 0;  // 0: unlimited
  double burst = 0;       // how many may come at once
};

struct GuardConfig {
  // Defaults: a person never notices them; a script does. Scanning the
  // million six-digit codes at 10 misses a minute takes about 69 days.
  std::array<Rate, kActions> rates{{
      {20, 10},     // create_session
      {1200, 600},  // join (successful or not): a venue behind one NAT joins at once
      {10, 5},      // unknown_code
      {10, 5},      // bad_credential
  }};
  size_t max_connections_per_address = 1000;  // 0: unlimited
};

// The key of an address: IPv4 as is, IPv6 by its /64.
std::string address_key(const boost::asio::ip::address& a);

struct GuardStats {
  std::array<uint64_t, kActions> limited{};  // refused by a rate limit, per action
  uint64_t connections_refused = 0;           // refused by the per-address cap
  size_t addresses_tracked = 0;
};

class Guard : public std::enable_shared_from_this<Guard> {
 public:
  explicit Guard(GuardConfig config = {});

  // Takes one token for `action` from `address`'s bucket. True when allowed;
  // otherwise `retry_after_s` says when the next one will be.
  bool allow(const boost::asio::ip::address& address, Action action, int* retry_after_s = nullptr);
  // As allow(), as a Status: resource_exhausted with a message and
  // retry_after_s when refused.
  core::Status take(const boost::asio::ip::address& address, Action action);
  // Whether `address` has a token left for `action`, without taking it
  // (an address that has missed too often is refused before it looks up
  // another code).
  core::Status peek(const boost::asio::ip::address& address, Action action) const;

  // One open connection from `address`, released when the returned slot is
  // destroyed (the slot keeps the Guard alive). Null when the address
  // already holds the maximum. The Guard must be owned by a shared_ptr.
  class Slot {
   public:
    Slot(std::shared_ptr<Guard> g, std::string key) : guard_(std::move(g)), key_(std::move(key)) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    std::shared_ptr<Guard> guard_;
    std::string key_;
  };
  std::shared_ptr<Slot> open_connection(const boost::asio::ip::address& address);

  GuardStats stats() const;
  const GuardConfig& config() const { return config_; }

  static constexpr size_t kMaxTracked = 100000;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  using Table = std::unordered_map<std::string, Bucket>;
  // Forgets buckets that have refilled (they behave as new ones would).
  void prune(Table& table, const Rate& rate, std::chrono::steady_clock::time_point now);
  static core::Status refused(Action action, int retry_after_s);

  GuardConfig config_;
  mutable std::mutex mu_;
  std::array<Table, kActions> buckets_;               // guarded by mu_
  std::array<std::chrono::steady_clock::time_point, kActions> last_prune_{};  // guarded by mu_
  std::unordered_map<std::string, size_t> open_;      // guarded by mu_
  mutable std::array<std::atomic<uint64_t>, kActions> limited_{};  // peek() counts its refusals too
  std::atomic<uint64_t> connections_refused_{0};
};

}  // namespace parley::transport::guard
