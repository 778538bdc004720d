// SPDX-License-Identifier: GPL-3.0-or-later
// A few threads for work that may block (store reads, session creation), so
// that the network threads never wait on disk. Tasks wait in a bounded
// queue; submit() refuses a task when the queue is full (the caller answers
// "busy, retry") and counts it.
#pragma once

#include <functional>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"

namespace parley::core {

class WorkPool {
 public:
  WorkPool(size_t n_threads, size_t max_waiting) : queue_(max_waiting, Overflow::reject) {
    for (size_t i = 0; i < n_threads; ++i) {
      threads_.emplace_back([this] {
        while (auto task = queue_.pop()) (*task)();
      });
    }
  }
  // Runs the tasks already queued, then joins the threads.
  ~WorkPool() { stop(); }
  // As the destructor, earlier: a server stops its pool while everything the
  // tasks use still exists. Idempotent; later submits are refused.
  void stop() {
    queue_.close();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Thread-safe. False when the queue is full or the pool is shutting down.
  // A task must not throw.
  bool submit(std::function<void()> task) { return queue_.push(std::move(task)); }
  size_t depth() const { return queue_.depth(); }
  uint64_t n_refused() const { return queue_.n_dropped(); }

 private:
  BoundedQueue<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::core
