// SPDX-License-Identifier: GPL-3.0-or-later
// Where a Hub runs its deliveries. A broadcast to ten thousand listeners
// should not be ten thousand cross-thread wake-ups from the session's worker:
// the Hub hands each shard of subscribers to a lane as one task, the lanes run
// on the network threads (both cores), and each subscriber is always served
// by the same lane, so its messages stay in order.
#pragma once

#include <cstddef>
#include <functional>

namespace parley::fanout {

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual size_t lanes() const = 0;
  // Runs `task` on lane `lane` (< lanes()); tasks of one lane run in order,
  // one at a time. Thread-safe.
  virtual void dispatch(size_t lane, std::function<void()> task) = 0;
};

}  // namespace parley::fanout
