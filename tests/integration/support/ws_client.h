// SPDX-License-Identifier: GPL-3.0-or-later
// A WebSocket test client on a real socket: a reader thread records every
// message with its arrival time; tests wait for what they expect.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace parley::testing {

struct Received {
  bool binary = false;
  std::string bytes;
  nlohmann::json json;  // parsed text messages
  std::chrono::steady_clock::time_point at;
};

class WsClient {
 public:
  // Connects to ws://127.0.0.1:port/ws. receive_buffer_bytes > 0 shrinks the
  // socket's receive buffer (a listener that never reads fills it quickly).
  // `target`: the request target of the upgrade ("/ws", or "/ws?speaker=…" as the speaker page sends).
  WsClient(unsigned short port, bool read = true, int receive_buffer_bytes = 0, const std::string& target = "/ws");
  ~WsClient();

  void send_text(const std::string& text);
  void send_json(const nlohmann::json& j) { send_text(j.dump()); }
  void send_binary(const std::string& bytes);
  // Sends one speaker frame: uint32 LE sequence number + PCM16 LE samples.
  void send_frame(uint32_t seq, const std::vector<int16_t>& pcm);
  void close();

  std::vector<Received> messages() const;
  std::vector<nlohmann::json> of_type(const std::string& type) const;
  size_t n_binary() const;
  // Waits until pred(messages) is true; returns false on timeout.
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                std::chrono::milliseconds timeout);
  bool wait_for_type(const std::string& type, std::chrono::milliseconds timeout, size_t count = 1);
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::testing
