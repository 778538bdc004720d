// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/remote/endpoint.h"

#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "core/log.h"

namespace parley::engines::remote {
namespace {

std::mutex g_registry_mu;
std::vector<std::weak_ptr<const EndpointStats>> g_registry;

// A failure that may pass on a second try: the server is there but busy,
// restarting or dropped the connection.
bool retryable(const core::Result<HttpAnswer>& r) { return !r || r->status >= 500; }

// An answer that says the engine cannot serve us now: counts against the breaker.
bool breaker_failure(const HttpAnswer& a) {
  return a.status >= 500 || a.status == 401 || a.status == 403 || a.status == 429;
}

}  // namespace

std::vector<std::string> endpoint_setting_keys() {
  return {"url", "key-env", "ca-file", "timeout-ms", "retries", "breaker-failures", "breaker-cooldown-ms", "workers"};
}

core::Result<EndpointConfig> endpoint_config(const std::string& kind, const std::string& engine,
                                             const Settings& s, int default_timeout_ms) {
  EndpointConfig c;
  c.kind = kind;
  c.engine = engine;
  auto url_text = s.get("url");
  if (!url_text) return core::invalid_argument(kind + " engine '" + engine + "' needs url=http://host:port");
  auto url = parse_url(*url_text);
  if (!url) return url.status();
  c.url = *url;
  if (auto env = s.get("key-env")) {
    const char* key = std::getenv(env->c_str());
    if (key == nullptr || *key == '\0') {
      return core::invalid_argument(kind + " engine '" + engine + "': key-env=" + *env +
                                    " names an environment variable that is not set; export it with the key");
    }
    c.api_key = key;
  }
  if (auto ca = s.get("ca-file")) {
    if (!c.url.tls) return core::invalid_argument(kind + " engine '" + engine + "': ca-file is for https URLs");
    c.ca_file = *ca;
    if (auto st = check_ca_file(c.ca_file); !st) {
      return core::invalid_argument(kind + " engine '" + engine + "': " + st.message());
    }
  }
  auto timeout = s.get_long("timeout-ms", default_timeout_ms, 50, 600000);
  auto retries = s.get_long("retries", c.retries, 0, 10);
  auto failures = s.get_long("breaker-failures", c.breaker_failures, 1, 1000);
  auto cooldown = s.get_long("breaker-cooldown-ms", c.breaker_cooldown_ms, 100, 3600000);
  auto workers = s.get_long("workers", static_cast<long>(c.workers), 1, 256);
  for (const auto* r : {&timeout, &retries, &failures, &cooldown, &workers}) {
    if (!*r) return r->status();
  }
  c.timeout_ms = static_cast<int>(*timeout);
  c.retries = static_cast<int>(*retries);
  c.breaker_failures = static_cast<int>(*failures);
  c.breaker_cooldown_ms = static_cast<int>(*cooldown);
  c.workers = static_cast<size_t>(*workers);
  c.queue = c.workers * 8;
  return c;
}

Endpoint::Endpoint(EndpointConfig config)
    : c_(std::move(config)), client_(c_.url, c_.ca_file), stats_(std::make_shared<EndpointStats>()),
      pool_(std::make_unique<core::WorkPool>(c_.workers, c_.queue)) {
  stats_->kind = c_.kind;
  stats_->engine = c_.engine;
  stats_->target = c_.url.text();
  std::lock_guard lock(g_registry_mu);
  std::erase_if(g_registry, [](const auto& w) { return w.expired(); });
  g_registry.push_back(stats_);
}

Endpoint::~Endpoint() { pool_->stop(); }

bool Endpoint::allow() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::closed) return true;
  if (state_ == BreakerState::open) {
    if (std::chrono::steady_clock::now() < open_until_) return false;
    state_ = BreakerState::half_open;
    stats_->breaker_state = static_cast<int>(state_);
    trial_in_flight_ = false;
  }
  // Half open: one trial call at a time decides.
  if (trial_in_flight_) return false;
  trial_in_flight_ = true;
  return true;
}

bool Endpoint::available() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::open) return std::chrono::steady_clock::now() >= open_until_;
  return state_ == BreakerState::closed || !trial_in_flight_;
}

void Endpoint::record(bool ok) {
  std::lock_guard lock(mu_);
  trial_in_flight_ = false;
  if (ok) {
    if (state_ != BreakerState::closed) {
      core::log_info("engines", c_.kind + " engine " + c_.engine + " at " + c_.url.text() + " answers again");
    }
    consecutive_failures_ = 0;
    state_ = BreakerState::closed;
  } else if (state_ == BreakerState::half_open || ++consecutive_failures_ >= c_.breaker_failures) {
    if (state_ != BreakerState::open) {
      ++stats_->breaker_opened;
      core::log_warn("engines", c_.kind + " engine " + c_.engine + " at " + c_.url.text() + " failed " +
                                    std::to_string(std::max(1, consecutive_failures_)) +
                                    " time(s): using the fallback for " + std::to_string(c_.breaker_cooldown_ms) +
                                    " ms before trying it again");
    }
    state_ = BreakerState::open;
    open_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(c_.breaker_cooldown_ms);
  }
  stats_->breaker_state = static_cast<int>(state_);
}

void Endpoint::bad_answer() {
  ++stats_->failures[static_cast<size_t>(Failure::bad_answer)];
  --stats_->succeeded;  // it was counted as a usable answer
  record(false);
}

core::Result<HttpAnswer> Endpoint::call(const HttpExchange& exchange, std::optional<int> timeout_ms) {
  auto& st = *stats_;
  if (!allow()) {
    ++st.failures[static_cast<size_t>(Failure::breaker_open)];
    return core::unavailable(c_.engine + " at " + c_.url.text() + " is failing; its circuit breaker is open");
  }
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(timeout_ms.value_or(c_.timeout_ms));
  auto done = std::make_shared<std::promise<core::Result<HttpAnswer>>>();
  auto answer = done->get_future();
  const bool queued = pool_->submit([this, exchange, deadline, done] {
    core::Result<HttpAnswer> r = core::unavailable("not called");
    for (int attempt = 0;; ++attempt) {
      ++stats_->calls;
      r = client_.exchange(exchange, deadline);
      if (!retryable(r) || attempt >= c_.retries) break;
      const auto backoff = std::chrono::milliseconds(50 << std::min(attempt, 6));
      if (std::chrono::steady_clock::now() + backoff >= deadline) break;
      std::this_thread::sleep_for(backoff);
    }
    done->set_value(std::move(r));
  });
  if (!queued) {
    ++st.failures[static_cast<size_t>(Failure::shed)];
    {
      // Our own overload says nothing about the server: the breaker stays
      // as it was, and a half-open trial that never ran is given back.
      std::lock_guard lock(mu_);
      trial_in_flight_ = false;
    }
    return core::unavailable(c_.engine + " at " + c_.url.text() + ": every call slot is taken");
  }
  if (answer.wait_until(deadline + std::chrono::milliseconds(100)) != std::future_status::ready) {
    ++st.failures[static_cast<size_t>(Failure::timeout)];
    record(false);
    return core::unavailable(c_.engine + " at " + c_.url.text() + ": no answer within " +
                             std::to_string(timeout_ms.value_or(c_.timeout_ms)) + " ms");
  }
  auto r = answer.get();
  if (!r) {
    const bool late = r.status().message().find("in time") != std::string::npos;
    ++st.failures[static_cast<size_t>(late ? Failure::timeout : Failure::unreachable)];
    record(false);
    return r;
  }
  st.seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (r->status < 200 || r->status >= 300) {
    ++st.failures[static_cast<size_t>(Failure::http_status)];
    record(!breaker_failure(*r));  // a refusal of this one request says the server is up
  } else {
    ++st.succeeded;
    record(true);
  }
  return r;
}

std::vector<std::shared_ptr<const EndpointStats>> all_endpoint_stats() {
  std::lock_guard lock(g_registry_mu);
  std::vector<std::shared_ptr<const EndpointStats>> out;
  for (const auto& w : g_registry) {
    if (auto s = w.lock()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace parley::engines::remote
