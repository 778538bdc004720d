// SPDX-License-Identifier: GPL-3.0-or-later
// Many client WebSockets on one epoll loop and one thread: the receiving side
// of parley-load. It is kept light on purpose. The load generator shares the
// server's cores, so every microsecond it spends per message shows up in the
// latency it reports; a plain level-triggered loop with one recv per ready
// socket costs a fraction of a general-purpose async stack.
//
// Client frames are masked (RFC 6455 §5.3); server frames may be fragmented;
// pings are answered. Not thread-safe: every call but stop() runs on the
// thread that calls run().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include <deque>

namespace parley::tools {

class WsSwarm {
 public:
  struct Handler {
    virtual ~Handler() = default;
    virtual void on_open(int id) = 0;
    virtual void on_message(int id, std::string_view data, bool binary) = 0;
    // The connection is gone: refused, failed, or closed by the server.
    // `was_open` tells whether the WebSocket handshake had completed.
    virtual void on_closed(int id, bool was_open) = 0;
  };

  explicit WsSwarm(Handler& handler);
  ~WsSwarm();
  WsSwarm(const WsSwarm&) = delete;
  WsSwarm& operator=(const WsSwarm&) = delete;

  // Starts a non-blocking connect from `source_ip` (port chosen by the
  // kernel) and the upgrade request for `path`. Returns the connection's id
  // (0, 1, 2… in call order); a failure is reported through on_closed.
  int connect(const std::string& source_ip, const std::string& host, unsigned short port, const std::string& path);
  void send_text(int id, std::string_view text);

  // Runs the loop until stop() is called; `tick` runs about every 20 ms.
  // With `coalesce_us` > 0, a loop that found less than a full batch of
  // ready sockets sleeps that long before it looks again, like a network
  // card's interrupt coalescing: the senders then rarely have to wake this
  // thread (on loopback that wake-up is charged to the sender), at the price
  // of at most `coalesce_us` added to each measured latency.
  void run(const std::function<void()>& tick, int coalesce_us = 0);
  void stop() { stop_.store(true); }

 private:
  enum class State { connecting, handshaking, open, closed };
  struct Conn {
    int fd = -1;
    State state = State::connecting;
    std::string request;   // the upgrade request, sent once connected
    std::string in;        // received bytes not yet parsed
    std::string message;   // a fragmented message being put together
    bool message_binary = false;
    std::string out;       // bytes the socket did not take yet
  };

  void on_event(int id, uint32_t events);
  void on_bytes(int id, const char* data, size_t size);
  size_t parse_frames(int id, const char* data, size_t size);  // bytes consumed
  void send_frame(int id, uint8_t opcode, std::string_view payload);
  void flush(int id);
  void watch(int id, bool want_write);
  void drop(int id);
  uint64_t next_random();  // xorshift64: masking keys and handshake nonces

  Handler& handler_;
  int epoll_fd_ = -1;
  std::deque<Conn> conns_;  // a deque: connect() never moves a Conn a caller holds
  std::atomic<bool> stop_{false};
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);  // one recv at a time
  uint64_t mask_state_ = 0x9e3779b97f4a7c15ULL;
};

}  // namespace parley::tools
