// SPDX-License-Identifier: GPL-3.0-or-later
// A bounded least-recently-used map. Not thread-safe: the owner serialises access.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace parley::core {

template <typename K, typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  std::optional<V> get(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++n_misses_;
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    ++n_hits_;
    return it->second->second;
  }

  // Inserts or refreshes; evicts the least recently used entry beyond capacity.
  void put(const K& key, V value) {
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++n_evictions_;
    }
  }

  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }
  size_t n_hits() const { return n_hits_; }
  size_t n_misses() const { return n_misses_; }
  size_t n_evictions() const { return n_evictions_; }

 private:
  using Entry = std::pair<K, V>;
  size_t capacity_;
  std::list<Entry> order_;
  std::unordered_map<K, typename std::list<Entry>::iterator> index_;
  size_t n_hits_ = 0, n_misses_ = 0, n_evictions_ = 0;
};

}  // namespace parley::core
