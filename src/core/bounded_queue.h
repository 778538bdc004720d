// SPDX-License-Identifier: GPL-3.0-or-later
// A bounded multi-producer, multi-consumer queue for hand-offs between threads.
// Every queue in parley is one of these, with an overflow policy chosen at
// construction and its drops counted, so queue depths and drops can be exported.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace parley::core {

enum class Overflow {
  reject,       // push() returns false and the item is not queued
  drop_oldest,  // the oldest queued item is discarded to make room
};

template <typename T>
class BoundedQueue {
 public:
  BoundedQueue(size_t capacity, Overflow policy) : capacity_(capacity), policy_(policy) {}

  // Returns false when the item was not queued (queue closed, or full under
  // Overflow::reject). Under drop_oldest a full queue still accepts the item.
  bool push(T item) { return push(std::move(item), capacity_); }

  // As push(), with the queue counted full at `limit` (≤ capacity) items:
  // callers keep the last places for items that must get in.
  bool push(T item, size_t limit) {
    limit = std::min(limit, capacity_);
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      if (items_.size() >= limit) {
        ++n_dropped_;
        if (policy_ == Overflow::reject || capacity_ == 0) return false;
        items_.pop_front();
      }
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // Blocks until an item arrives or the queue is closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty() || closed_; });
    return take_locked();
  }

  // As pop(), but gives up after `timeout` (nullopt).
  template <class Rep, class Period>
  std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    return take_locked();
  }

  std::optional<T> try_pop() {
    std::lock_guard lock(mu_);
    return take_locked();
  }

  // Wakes every waiter; later pushes fail; queued items can still be popped.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  size_t depth() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  uint64_t n_dropped() const {
    std::lock_guard lock(mu_);
    return n_dropped_;
  }
  size_t capacity() const { return capacity_; }

 private:
  std::optional<T> take_locked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  const size_t capacity_;
  const Overflow policy_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
  uint64_t n_dropped_ = 0;
};

}  // namespace parley::core
