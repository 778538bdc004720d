// SPDX-License-Identifier: GPL-3.0-or-later
// A remote engine server as the pipeline sees it: calls run on the
// endpoint's own workers behind a bounded queue, each with a deadline,
// retried with backoff while time is left, behind a circuit breaker. A
// caller waits at most its deadline, whatever the server does; a full queue
// or an open breaker answers at once. The adapters (mt/libretranslate,
// stt/openai, tts/openai) fall back to an embedded engine on any failure and
// say so here. Every endpoint's counters are exported at /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/histogram.h"
#include "core/status.h"
#include "core/work_pool.h"
#include "engines/registry.h"
#include "engines/remote/http_client.h"

namespace parley::engines::remote {

struct EndpointConfig {
  std::string kind;    // stt, mt, tts
  std::string engine;  // the registry's name, e.g. "libretranslate"
  Url url;
  std::string api_key;          // sent as the bearer token; empty: none
  std::string ca_file;          // PEM certificates trusted for https; empty: the system's
  int timeout_ms = 5000;        // per call, retries included
  int retries = 1;              // after a failure that may pass (5xx, reset, refused)
  int breaker_failures = 3;     // consecutive failures that open the breaker
  int breaker_cooldown_ms = 5000;  // open this long, then one trial call
  size_t workers = 4;           // calls in flight at once
  size_t queue = 32;            // calls waiting for a worker; more are refused at once
};

// The settings every remote engine takes (url, key-env, timeout-ms,
// retries, breaker-failures, breaker-cooldown-ms, workers), read into a
// config. invalid_argument naming the setting; the key's environment
// variable must be set when named.
core::Result<EndpointConfig> endpoint_config(const std::string& kind, const std::string& engine,
                                             const Settings& settings, int default_timeout_ms);
// Their names, for the registry's tables.
std::vector<std::string> endpoint_setting_keys();

enum class Failure : size_t { timeout, unreachable, http_status, bad_answer, shed, breaker_open };
inline constexpr size_t kFailureKinds = 6;
inline constexpr const char* kFailureNames[kFailureKinds] = {"timeout", "unreachable", "http_status",
                                                              "bad_answer", "shed", "breaker_open"};

enum class BreakerState : int { closed = 0, open = 1, half_open = 2 };

struct EndpointStats {
  std::string kind, engine, target;
  std::atomic<uint64_t> calls{0};      // made (each retry counts once more)
  std::atomic<uint64_t> succeeded{0};  // usable answers
  std::array<std::atomic<uint64_t>, kFailureKinds> failures{};
  std::atomic<uint64_t> fallbacks{0};  // results taken from the embedded engine instead
  std::atomic<uint64_t> breaker_opened{0};
  std::atomic<int> breaker_state{0};   // BreakerState
  std::atomic<uint64_t> partials_disabled{0};  // STT streams that stopped asking for partials (too slow)
  core::Histogram seconds;             // answered calls, from queueing to the answer
};

class Endpoint {
 public:
  explicit Endpoint(EndpointConfig config);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Thread-safe; returns within the timeout. An HTTP answer of any status
  // is returned as an answer (a non-2xx one is counted as a failure); 5xx,
  // 401/403/429, silence and broken connections count against the breaker.
  core::Result<HttpAnswer> call(const HttpExchange& exchange, std::optional<int> timeout_ms = std::nullopt);
  // A 2xx answer that could not be used (garbage JSON, an audio file that
  // does not decode): counted, and against the breaker.
  void bad_answer();
  void fell_back() { ++stats_->fallbacks; }
  // False while the breaker is open: callers go straight to their fallback.
  bool available();

  EndpointStats& stats() { return *stats_; }
  const EndpointConfig& config() const { return c_; }

 private:
  bool allow();
  void record(bool ok);

  EndpointConfig c_;
  HttpClient client_;
  std::shared_ptr<EndpointStats> stats_;
  std::mutex mu_;
  int consecutive_failures_ = 0;
  BreakerState state_ = BreakerState::closed;
  std::chrono::steady_clock::time_point open_until_{};
  bool trial_in_flight_ = false;
  std::unique_ptr<core::WorkPool> pool_;  // last: joined first
};

// Every endpoint alive in the process, for /metrics.
std::vector<std::shared_ptr<const EndpointStats>> all_endpoint_stats();

}  // namespace parley::engines::remote
