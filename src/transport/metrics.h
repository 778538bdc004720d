// SPDX-License-Identifier: GPL-3.0-or-later
// Process-wide transport counters, exported at /metrics. Lock-free.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley::transport {

// A counter bumped from many threads at once (every delivery): one cache
// line per shard, summed when read.
class ShardedCounter {
 public:
  void add(size_t shard, uint64_t n = 1) { cells_[shard % kShards].value.fetch_add(n, std::memory_order_relaxed); }
  uint64_t load() const {
    uint64_t sum = 0;
    for (const auto& c : cells_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::array<Cell, kShards> cells_{};
};

struct Metrics {
  std::atomic<uint64_t> http_requests{0};
  std::atomic<uint64_t> ws_connections{0};       // currently open
  ShardedCounter ws_messages_sent;  // by connection lane
  std::atomic<uint64_t> ws_audio_dropped{0};     // listener behind: speech dropped
  std::atomic<uint64_t> ws_partials_dropped{0};  // listener behind: superseded partials dropped
  std::atomic<uint64_t> ws_evictions{0};         // listener stopped reading: disconnected
  std::atomic<uint64_t> ws_bad_frames{0};        // malformed input from clients
  std::atomic<uint64_t> audio_streams{0};        // HTTP audio streams open
};

}  // namespace parley::transport
