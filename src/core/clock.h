// SPDX-License-Identifier: GPL-3.0-or-later
// One monotonic clock for every stage timestamp, so stage latencies can be
// subtracted across threads.
#pragma once

#include <chrono>
#include <cstdint>

namespace parley::core {

using Clock = std::chrono::steady_clock;

// Microseconds on the monotonic clock; 0 means "not reached".
inline int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// Milliseconds on the same clock (timeouts, idle times, margins).
inline int64_t now_ms() { return now_us() / 1000; }

// Milliseconds between two now_us() stamps, or -1 when either is unset.
inline double elapsed_ms(int64_t from_us, int64_t to_us) {
  if (from_us == 0 || to_us == 0) return -1.0;
  return static_cast<double>(to_us - from_us) / 1000.0;
}

}  // namespace parley::core
