// SPDX-License-Identifier: GPL-3.0-or-later
// A small HTTP proxy on 127.0.0.1 that forwards to an engine server or
// injects one fault per request: a slow answer, a 500, garbage JSON, a body
// cut short, a connection dropped. The remote-engine tests put it between a
// parley and its engine node. Tests only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace parley::testing {

class FaultProxy {
 public:
  enum class Mode { pass, slow, error_500, garbage, truncated, drop };

  explicit FaultProxy(unsigned short upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  unsigned short port() const { return port_; }
  // Applies to requests from now on; `delay` is the slow mode's wait
  // before it forwards.
  void set(Mode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Requests handled in each mode so far.
  uint64_t handled(Mode mode) const { return handled_[static_cast<size_t>(mode)].load(); }

 private:
  void accept_loop();
  void serve(int fd);

  unsigned short upstream_;
  unsigned short port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::pass};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<uint64_t> handled_[6] = {};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;
};

}  // namespace parley::testing
