// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP and WebSocket server: one port, network threads that each run an
// I/O context of their own, and every connection pinned to one of them.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "fanout/dispatcher.h"
#include "transport/context.h"

namespace parley::transport {

struct ServerConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  int io_threads = 2;
  // PEM files; both set: every connection is TLS (https://, wss://).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  Server(ServerConfig config, Context context);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; unavailable with a hint when the port is taken.
  core::Status listen();
  uint16_t port() const;
  bool tls() const;
  // Serves on the I/O threads until stop(); returns when they have finished.
  void run();
  // Stops accepting, gives open connections `grace` to finish, then ends
  // the I/O loop (run() returns). Thread-safe; idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // For timers that live on the I/O loop (idle reaping).
  void every(std::chrono::milliseconds period, std::function<void()> fn);

  const Context& context() const { return *context_; }
  // For wiring that must exist before the server (the session registry).
  Context& context() { return *context_; }
  // Broadcast lanes on the server's network threads (lane i on thread
  // i mod threads), the same lanes connections run on: each connection lives
  // on one lane, so a broadcast task reaches its listeners without a hand-off.
  std::shared_ptr<fanout::Dispatcher> dispatcher();
  static constexpr size_t kLanes = 64;

 private:
  struct Impl;
  // The context outlives the I/O loop: handlers still queued when the loop
  // is destroyed refer to it.
  std::unique_ptr<Context> context_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::transport
