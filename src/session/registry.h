// SPDX-License-Identifier: GPL-3.0-or-later
// The live sessions of this process, by code. Thread-safe; no store call is
// made under the registry's lock (lookups by code never wait on disk).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "session/live_session.h"

namespace parley::session {

struct Created {
  std::shared_ptr<LiveSession> session;
  std::string speaker_token;  // shown once, to the creator
  std::string listener_key;   // in the listener link: reads the transcript after the end
};

class Registry {
 public:
  Registry(pipeline::Engines engines, std::shared_ptr<store::Store> store, LiveConfig config,
           size_t max_sessions);
  ~Registry();

  // resource_exhausted at max_sessions; invalid_argument for an unknown
  // source language or target.
  core::Result<Created> create(SessionSpec spec);
  // A live session of this node, or (several nodes) one that another node
  // runs, seen here through the bus (LiveSession::create_view).
  std::shared_ptr<LiveSession> find(const std::string& code);
  // About once a second, from the reaper's thread: the sessions' cluster
  // heartbeats (LiveSession::tick).
  void tick();
  // The directory of live sessions on every node (several nodes).
  static constexpr const char* kDirectory = "parley:sessions";
  // A view without an audience here for this long is let go.
  static constexpr int64_t kViewIdleMs = 60'000;
  // A node lists its running sessions in the directory again this often;
  // an entry nobody listed for kDirectoryStaleMs (its node crashed and its
  // speaker never came back) is removed by any node, and the session
  // ended in a shared store. Node clocks must agree within minutes.
  static constexpr int64_t kDirectoryRefreshMs = 60'000;
  static constexpr int64_t kDirectoryStaleMs = 600'000;

  // Ends sessions idle longer than idle_ms and forgets ended ones whose
  // worker has exited. Returns how many were ended for idleness. May block
  // (a session's destructor): call it from its own thread, never a network
  // thread.
  size_t reap(int64_t idle_ms);
  // Ends every session (server shutdown).
  void end_all(const std::string& reason);
  // Server shutdown: alone, end_all; with other nodes, each session is left
  // to them (LiveSession::leave).
  void leave_all(const std::string& reason);

  size_t size() const;
  const pipeline::Engines& engines() const { return engines_; }
  // Where sessions are kept (null: nowhere).
  const std::shared_ptr<store::Store>& store() const { return store_; }
  // Counters and latencies of every session this registry ever held.
  const Telemetry& telemetry() const { return *config_.telemetry; }
  // Where sessions' vocabularies are built (for /metrics).
  const WordsBuilder& words_builder() const { return *config_.words_builder; }
  std::vector<std::shared_ptr<LiveSession>> all() const;
  // The bus between nodes, when there is one.
  std::optional<fanout::Bus::Stats> bus_stats() const {
    if (!config_.bus) return std::nullopt;
    return config_.bus->stats();
  }

 private:
  pipeline::Engines engines_;
  std::shared_ptr<store::Store> store_;
  LiveConfig config_;
  size_t max_sessions_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<LiveSession>> by_code_;
  // Sessions this node let go to another (LiveSession::left_to_others)
  // that a lookup replaced by a view, until their worker has exited.
  std::vector<std::shared_ptr<LiveSession>> departed_;  // guarded by mu_
  // Several nodes: every node's live sessions, from the bus's directory.
  struct Listed {
    SessionInfo info;
    std::string token_hash;
    int64_t listed_at_ms = 0;  // wall clock: when its node last listed it
  };
  std::map<std::string, Listed> directory_;  // guarded by mu_
  static std::string listing(const SessionInfo& info, const std::string& token_hash);
  static std::optional<Listed> parse_listing(const std::string& value);
  std::unique_ptr<fanout::Bus::Subscription> directory_watch_;
  uint64_t bus_reconnects_ = 0;  // tick() only: a Redis that restarted has lost the directory
  int64_t listed_at_ms_ = 0;     // tick() only: when this node last listed its sessions
  // Removes directory entries nobody listed for kDirectoryStaleMs (reap()).
  void forget_stale_listings();
  // Asks the bus for a session's lease and waits for the answer (up to 3 s,
  // then unavailable): its fence, or nothing when another node holds it.
  core::Result<std::optional<int64_t>> take_lease(const std::string& code);
};

}  // namespace parley::session
