// SPDX-License-Identifier: GPL-3.0-or-later
// The REST API and the pages, as plain request → response functions (no
// sockets), so they can be tested directly. Errors are JSON
// {"error": {"code", "message"}} with the HTTP status chosen in one place
// (http_status()).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/http/proxies.h"
#include "core/status.h"
#include "core/work_pool.h"
#include "pipeline/pipeline.h"
#include "rtc/service.h"
#include "session/conversation.h"
#include "session/registry.h"
#include "store/store.h"
#include "transport/guard/limits.h"
#include "transport/http/requests.h"
#include "transport/metrics.h"

namespace parley::transport {


struct ApiContext {
  session::Registry* registry = nullptr;
  std::shared_ptr<store::Store> store;
  pipeline::Engines engines;
  std::string public_url;  // e.g. "https://talks.example.org"; empty: from the Host header
  // The CSP frame-ancestors sources of /overlay and /embed (e.g. "*",
  // "'none'", "'self' https://www.example.org"); every other page is 'none'.
  std::string embed_origins = "*";
  Metrics* metrics = nullptr;
  TrustedProxies trusted_proxies;  // serve --trusted-proxies
  const std::atomic<bool>* draining = nullptr;  // set while the server shuts down: /readyz says 503
  int64_t started_at_ms = 0;
  bool tls = false;  // links handed out are https://
  rtc::Service* rtc = nullptr;  // WHIP/WHEP; null: WebRTC is off
  session::Conversations* conversations = nullptr;  // conversation mode; null: off
  // Where requests that may touch the store run, off the network threads;
  // null: inline (tests that call handle_request directly).
  std::shared_ptr<core::WorkPool> blocking;
  // Rate limits and connection caps per client address; null: none.
  std::shared_ptr<guard::Guard> guard;
  // Hashes (session::hash_token) of the operator's API keys; when any are
  // set, creating a session needs one as the bearer token.
  std::vector<std::string> api_key_hashes;
  // The engine APIs (engine_api.h) run here, a few requests at a time;
  // null: they are switched off (404).
  std::shared_ptr<core::WorkPool> engine_pool;
  // Hashes of keys that may use the engine APIs. Empty: the operator's keys
  // (api_key_hashes) do; both empty: anyone on the network may.
  std::vector<std::string> engine_api_key_hashes;
  // Largest upload to /v1/audio/transcriptions, and longest recording.
  size_t engine_api_max_upload_bytes = 25u << 20;
  // Upload bytes being received at once (declared lengths, reserved as the
  // headers arrive), and their cap: past it uploads get 503 before their body.
  std::shared_ptr<std::atomic<uint64_t>> engine_upload_bytes = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t engine_api_max_upload_bytes_in_flight = 100u << 20;
  int engine_api_max_audio_s = 1800;
};

// Who sent a request.
struct Client {
  boost::asio::ip::address address;
  // The connection came from a trusted reverse proxy (proxies.h): `address`
  // is, per request, the one the proxy forwarded.
  bool via_proxy = false;
};

// The guard's verdicts, with no guard meaning "allowed".
core::Status take(const ApiContext& ctx, const Client& client, guard::Action action);
core::Status peek(const ApiContext& ctx, const Client& client, guard::Action action);
// The live session with this code, on behalf of `client`: an address out of
// unknown-code tokens is refused before it looks (resource_exhausted with
// retry_after_s), and each miss (not_found) costs it a token. Every door
// that takes a code (WebSocket joins, /listen, WHIP/WHEP) looks up through here.
core::Result<std::shared_ptr<session::LiveSession>> find_live(const ApiContext& ctx, const Client& client,
                                                              const std::string& code);

// The operator's API key, when the server has any (--api-keys): creating a
// session or a conversation needs one as the bearer token.
core::Status check_api_key(const ApiContext& ctx, const Client& client, const Request& req);
// True when `key` hashes to one of `hashes` (session::hash_token), compared
// in constant time: operator keys and engine API keys alike.
bool key_in(const std::vector<std::string>& hashes, const std::string& key);

// A response with the server's common headers.
Response make_response(const Request& req, http::status st, std::string_view type, std::string body);
// A JSON answer (invalid UTF-8 in strings replaced, never thrown on).
Response json_response(const Request& req, http::status st, const nlohmann::json& j);
// The CSP frame-ancestors sources for an --embed-origins setting: origins
// (scheme://host[:port], or a scheme-less host) separated by spaces or
// commas, 'self', *, or none; an error says which entry is not one.
core::Result<std::string> frame_ancestors(std::string_view setting);

// Where this server is reached ("https://host"): --public-url, or the Host header.
std::string base_url(const ApiContext& ctx, const Request& req);
// One of the pages or files under web/ (built in).
Response page(const Request& req, std::string_view name, http::status st = http::status::ok);

// The one mapping from error classes to HTTP statuses.
http::status http_status(core::Code code);
Response error_response(const Request& req, const core::Status& status);

// Handles every HTTP route except the WebSocket upgrade and audio streams.
Response handle_request(const ApiContext& ctx, const Request& req, const Client& client);

}  // namespace parley::transport
