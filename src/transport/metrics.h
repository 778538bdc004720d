// SPDX-License-Identifier: GPL-3.0-or-later
// Process-wide transport counters, exported at /metrics. Lock-free.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/histogram.h"

namespace parley::transport {

// The engine APIs parley serves to other programs (engine_api.h).
enum class EngineEndpoint : size_t { transcriptions, speech, translate, languages };
inline constexpr size_t kEngineEndpoints = 4;
inline constexpr const char* kEngineEndpointNames[kEngineEndpoints] = {"transcriptions", "speech", "translate",
                                                                      "languages"};

struct EndpointStats {
  std::atomic<uint64_t> requests{0};  // answered, whatever the status
  std::atomic<uint64_t> errors{0};    // answered with a 4xx or 5xx
  std::atomic<uint64_t> busy{0};      // refused with 503: every engine worker was taken
  core::Histogram seconds;            // from the request being read to its answer
};

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
  std::array<EndpointStats, kEngineEndpoints> engine_api;
  std::atomic<uint64_t> engine_api_abandoned{0};  // requests whose client left before a worker took them
};

}  // namespace parley::transport
