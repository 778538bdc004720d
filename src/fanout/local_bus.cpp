// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/local_bus.h"

#include <algorithm>
#include "core/clock.h"

namespace parley::fanout {


class LocalBus::Sub final : public Subscription {
 public:
  Sub(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  ~Sub() override { cancel_(); }

 private:
  std::function<void()> cancel_;
};

std::shared_ptr<LocalBus::Topic> LocalBus::topic(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& t = topics_[name];
  if (!t) t = std::make_shared<Topic>();
  return t;
}

void LocalBus::publish(const std::string& name, std::string message, bool keep) {
  auto t = topic(name);
  std::lock_guard deliver(t->deliver_mu);
  std::vector<std::shared_ptr<Handler>> handlers;
  {
    std::lock_guard lock(mu_);
    ++stats_.published;
    stats_.received += t->handlers.size();
    if (keep) {
      t->log.push_back(message);
      while (t->log.size() > log_length_) t->log.pop_front();
    }
    for (const auto& [id, h] : t->handlers) handlers.push_back(h);
  }
  for (const auto& h : handlers) (*h)(message);
}

std::unique_ptr<Bus::Subscription> LocalBus::subscribe(const std::string& name, Handler handler,
                                                      std::function<void()> caught_up) {
  auto t = topic(name);
  auto h = std::make_shared<Handler>(std::move(handler));
  uint64_t id = 0;
  {
    // The log, then the live messages: no publish runs in between.
    std::lock_guard deliver(t->deliver_mu);
    std::deque<std::string> log;
    {
      std::lock_guard lock(mu_);
      id = next_id_++;
      t->handlers.emplace_back(id, h);
      log = t->log;
    }
    for (const auto& m : log) (*h)(m);
    if (caught_up) caught_up();
  }
  return std::make_unique<Sub>([this, name, id] { unsubscribe(name, id); });
}

void LocalBus::unsubscribe(const std::string& name, uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return;
  std::erase_if(it->second->handlers, [id](const auto& p) { return p.first == id; });
}

void LocalBus::retire(const std::string& name, int64_t /*after_ms*/) {
  // In one process nothing outlives the sessions that use it: the log goes
  // when its last subscriber has gone.
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it != topics_.end() && it->second->handlers.empty()) topics_.erase(it);
}

void LocalBus::put(const std::string& table, const std::string& key, std::string value) {
  std::lock_guard lock(tables_mu_);
  auto& t = tables_[table];
  t.rows[key] = value;
  for (const auto& [id, w] : t.watches) (*w)(key, value);
}

void LocalBus::erase(const std::string& table, const std::string& key) {
  std::lock_guard lock(tables_mu_);
  auto& t = tables_[table];
  if (t.rows.erase(key) == 0) return;
  for (const auto& [id, w] : t.watches) (*w)(key, std::nullopt);
}

std::unique_ptr<Bus::Subscription> LocalBus::watch(const std::string& table, Watch watch) {
  auto w = std::make_shared<Watch>(std::move(watch));
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
  }
  std::lock_guard lock(tables_mu_);
  auto& t = tables_[table];
  t.watches.emplace_back(id, w);
  for (const auto& [key, value] : t.rows) (*w)(key, value);
  return std::make_unique<Sub>([this, table, id] { unwatch(table, id); });
}

void LocalBus::unwatch(const std::string& table, uint64_t id) {
  std::lock_guard lock(tables_mu_);
  std::erase_if(tables_[table].watches, [id](const auto& p) { return p.first == id; });
}

void LocalBus::acquire(const std::string& name, const std::string& holder, int64_t ttl_ms,
                       LeaseDone done) {
  std::optional<int64_t> fence;
  {
    std::lock_guard lock(mu_);
    const int64_t now = core::now_ms();
    auto& l = leases_[name];
    if (l.holder.empty() || l.expires_ms <= now) {
      l.holder = holder;
      l.expires_ms = now + ttl_ms;
      l.fence = ++fences_[name];
      fence = l.fence;
    }
  }
  done(fence);
}

void LocalBus::renew(const std::string& name, const std::string& holder, int64_t ttl_ms,
                     LeaseDone done) {
  std::optional<int64_t> fence;
  {
    std::lock_guard lock(mu_);
    const int64_t now = core::now_ms();
    auto it = leases_.find(name);
    if (it != leases_.end() && it->second.holder == holder && it->second.expires_ms > now) {
      it->second.expires_ms = now + ttl_ms;
      fence = it->second.fence;
    }
  }
  done(fence);
}

void LocalBus::release(const std::string& name, const std::string& holder) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(name);
  if (it != leases_.end() && it->second.holder == holder) leases_.erase(it);
}

Bus::Stats LocalBus::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace parley::fanout
