// SPDX-License-Identifier: GPL-3.0-or-later
#include "fanout/hub.h"

#include <algorithm>
#include <cstdint>

namespace parley::fanout {

size_t Hub::shard_of(const Subscriber* s) {
  if (const size_t lane = s->lane(); lane != Subscriber::kAnyLane) return lane % kShards;
  // Allocations are 16-byte aligned: drop the low bits, mix the rest.
  auto x = reinterpret_cast<uintptr_t>(s) >> 4;
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>(x >> 32) % kShards;
}

size_t Hub::add(const std::string& language, std::shared_ptr<Subscriber> s) {
  std::lock_guard lock(mu_);
  auto& lang = by_language_[language];
  auto& shard = lang.shards[shard_of(s.get())];
  auto next = std::make_shared<List>();
  next->reserve((shard ? shard->size() : 0) + 1);
  if (shard) next->assign(shard->begin(), shard->end());
  next->push_back(std::move(s));
  shard = std::move(next);
  return ++lang.size;
}

size_t Hub::remove(const std::string& language, const Subscriber* s) {
  std::lock_guard lock(mu_);
  auto it = by_language_.find(language);
  if (it == by_language_.end()) return 0;
  auto& lang = it->second;
  auto& shard = lang.shards[shard_of(s)];
  if (!shard) return lang.size;
  auto found = std::find_if(shard->begin(), shard->end(), [&](const auto& p) { return p.get() == s; });
  if (found == shard->end()) return lang.size;
  auto next = std::make_shared<List>();
  next->reserve(shard->size() - 1);
  for (const auto& p : *shard) {
    if (p.get() != s) next->push_back(p);
  }
  shard = next->empty() ? nullptr : std::move(next);
  const size_t n = --lang.size;
  if (n == 0) by_language_.erase(it);
  return n;
}

void Hub::broadcast(const std::string& language, const MessagePtr& m) const {
  Snapshot snap;
  {
    std::lock_guard lock(mu_);
    auto it = by_language_.find(language);
    if (it == by_language_.end()) return;
    snap = it->second.shards;
  }
  each(snap, [m](Subscriber& s) { s.deliver(m); });
}

void Hub::broadcast_all(const MessagePtr& m) const {
  std::vector<Snapshot> snaps;
  {
    std::lock_guard lock(mu_);
    for (const auto& [lang, l] : by_language_) snaps.push_back(l.shards);
  }
  for (const auto& snap : snaps) each(snap, [m](Subscriber& s) { s.deliver(m); });
}

void Hub::close_all(const std::string& reason) const {
  std::vector<Snapshot> snaps;
  {
    std::lock_guard lock(mu_);
    for (const auto& [lang, l] : by_language_) snaps.push_back(l.shards);
  }
  for (const auto& snap : snaps) each(snap, [reason](Subscriber& s) { s.close(reason); });
}

void Hub::clear() {
  std::lock_guard lock(mu_);
  by_language_.clear();
}

size_t Hub::count(const std::string& language) const {
  std::lock_guard lock(mu_);
  auto it = by_language_.find(language);
  return it == by_language_.end() ? 0 : it->second.size;
}

std::map<std::string, size_t> Hub::counts() const {
  std::lock_guard lock(mu_);
  std::map<std::string, size_t> out;
  for (const auto& [lang, l] : by_language_) out[lang] = l.size;
  return out;
}

size_t Hub::total() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [lang, l] : by_language_) n += l.size;
  return n;
}

}  // namespace parley::fanout
