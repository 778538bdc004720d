// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/guard/limits.h"

#include <algorithm>
#include <cmath>

namespace parley::transport::guard {

const char* action_name(Action a) {
  switch (a) {
    case Action::create_session: return "create_session";
    case Action::join: return "join";
    case Action::unknown_code: return "unknown_code";
    case Action::bad_credential: return "bad_credential";
  }
  return "unknown";
}

std::string address_key(const boost::asio::ip::address& a) {
  if (a.is_v4()) return a.to_string();
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

Guard::Guard(GuardConfig config) : config_(config) {}

void Guard::prune(Table& table, const Rate& rate, std::chrono::steady_clock::time_point now) {
  const double per_s = rate.per_minute / 60.0;
  for (auto it = table.begin(); it != table.end();) {
    const double refilled = it->second.tokens + std::chrono::duration<double>(now - it->second.at).count() * per_s;
    if (refilled >= rate.burst) {
      it = table.erase(it);
    } else {
      ++it;
    }
  }
}

bool Guard::allow(const boost::asio::ip::address& address, Action action, int* retry_after_s) {
  const auto& rate = config_.rates[static_cast<size_t>(action)];
  if (rate.per_minute <= 0) return true;
  const double per_s = rate.per_minute / 60.0;
  const auto now = std::chrono::steady_clock::now();
  const std::string key = address_key(address);
  std::lock_guard lock(mu_);
  auto& table = buckets_[static_cast<size_t>(action)];
  auto it = table.find(key);
  if (it == table.end()) {
    // A full table is pruned at most once a second: an attacker rotating
    // addresses must not make every request walk it.
    auto& last = last_prune_[static_cast<size_t>(action)];
    if (table.size() >= kMaxTracked && now - last > std::chrono::seconds(1)) {
      last = now;
      prune(table, rate, now);
    }
    if (table.size() >= kMaxTracked) {
      // Too many addresses at once to remember: refuse rather than grow.
      ++limited_[static_cast<size_t>(action)];
      if (retry_after_s != nullptr) *retry_after_s = static_cast<int>(std::ceil(1.0 / per_s));
      return false;
    }
    it = table.emplace(key, Bucket{rate.burst, now}).first;
  }
  auto& b = it->second;
  b.tokens = std::min(rate.burst, b.tokens + std::chrono::duration<double>(now - b.at).count() * per_s);
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  ++limited_[static_cast<size_t>(action)];
  if (retry_after_s != nullptr) *retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_s)));
  return false;
}

core::Status Guard::refused(Action action, int retry_after_s) {
  static constexpr std::array<const char*, kActions> kWhat = {
      "sessions created", "joins", "lookups of codes that do not exist", "wrong tokens or keys"};
  return core::resource_exhausted(std::string("too many ") + kWhat[static_cast<size_t>(action)] +
                                  " from your address; try again in " + std::to_string(retry_after_s) + " s")
      .with_retry_after(retry_after_s);
}

core::Status Guard::take(const boost::asio::ip::address& address, Action action) {
  int retry = 0;
  if (allow(address, action, &retry)) return {};
  return refused(action, retry);
}

core::Status Guard::peek(const boost::asio::ip::address& address, Action action) const {
  const auto& rate = config_.rates[static_cast<size_t>(action)];
  if (rate.per_minute <= 0) return {};
  const double per_s = rate.per_minute / 60.0;
  std::lock_guard lock(mu_);
  const auto& table = buckets_[static_cast<size_t>(action)];
  auto it = table.find(address_key(address));
  if (it == table.end()) return {};
  const double tokens = std::min(
      rate.burst, it->second.tokens +
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.at).count() * per_s);
  if (tokens >= 1.0) return {};
  ++limited_[static_cast<size_t>(action)];
  return refused(action, std::max(1, static_cast<int>(std::ceil((1.0 - tokens) / per_s))));
}

std::shared_ptr<Guard::Slot> Guard::open_connection(const boost::asio::ip::address& address) {
  std::string key = address_key(address);
  {
    std::lock_guard lock(mu_);
    auto& n = open_[key];
    if (config_.max_connections_per_address != 0 && n >= config_.max_connections_per_address) {
      ++connections_refused_;
      return nullptr;
    }
    ++n;
  }
  return std::make_shared<Slot>(shared_from_this(), std::move(key));
}

Guard::Slot::~Slot() {
  std::lock_guard lock(guard_->mu_);
  auto it = guard_->open_.find(key_);
  if (it != guard_->open_.end() && --it->second == 0) guard_->open_.erase(it);
}

GuardStats Guard::stats() const {
  GuardStats s;
  for (size_t i = 0; i < kActions; ++i) s.limited[i] = limited_[i].load();
  s.connections_refused = connections_refused_.load();
  std::lock_guard lock(mu_);
  for (const auto& t : buckets_) s.addresses_tracked += t.size();
  return s;
}

}  // namespace parley::transport::guard
