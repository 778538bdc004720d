// SPDX-License-Identifier: GPL-3.0-or-later
// Process-wide transport counters, exported at /metrics. Lock-free.
#pragma once

#include <atomic>
#include <cstdint>

namespace parley::transport {

struct Metrics {
  std::atomic<uint64_t> http_requests{0};
  std::atomic<uint64_t> ws_connections{0};       // currently open
  std::atomic<uint64_t> ws_messages_sent{0};
  std::atomic<uint64_t> ws_audio_dropped{0};     // listener behind: speech dropped
  std::atomic<uint64_t> ws_partials_dropped{0};  // listener behind: superseded partials dropped
  std::atomic<uint64_t> ws_evictions{0};         // listener stopped reading: disconnected
  std::atomic<uint64_t> ws_bad_frames{0};        // malformed input from clients
  std::atomic<uint64_t> audio_streams{0};        // HTTP audio streams open
  std::atomic<uint64_t> handler_exceptions{0};   // exceptions caught at the network threads' backstop
};

}  // namespace parley::transport
