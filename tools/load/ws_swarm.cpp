// SPDX-License-Identifier: GPL-3.0-or-later
#include "load/ws_swarm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace parley::tools {
namespace {

constexpr size_t kMaxMessageBytes = 16 * 1024 * 1024;  // more is a broken stream, not a message
constexpr uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9;

std::string base64(const uint8_t* p, size_t n) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < n ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < n ? abc[v & 63] : '=';
  }
  return out;
}

}  // namespace

WsSwarm::WsSwarm(Handler& handler) : handler_(handler), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

WsSwarm::~WsSwarm() {
  for (auto& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

int WsSwarm::connect(const std::string& source_ip, const std::string& host, unsigned short port,
                     const std::string& path) {
  const int id = static_cast<int>(conns_.size());
  conns_.emplace_back();
  Conn& c = conns_.back();
  uint8_t key[16];
  for (auto& b : key) b = static_cast<uint8_t>(next_random());
  c.request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + base64(key, sizeof key) +
              "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  sockaddr_in from{}, to{};
  from.sin_family = to.sin_family = AF_INET;
  to.sin_port = htons(port);
  const std::string address = host == "localhost" ? "127.0.0.1" : host;
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (c.fd < 0 || inet_pton(AF_INET, source_ip.c_str(), &from.sin_addr) != 1 ||
      inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1 ||
      setsockopt(c.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
      bind(c.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    drop(id);
    return id;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u32 = static_cast<uint32_t>(id);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) drop(id);
  return id;
}

uint64_t WsSwarm::next_random() {
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 7;
  mask_state_ ^= mask_state_ << 17;
  return mask_state_;
}

void WsSwarm::send_text(int id, std::string_view text) { send_frame(id, kText, text); }

void WsSwarm::send_frame(int id, uint8_t opcode, std::string_view payload) {
  Conn& c = conns_[static_cast<size_t>(id)];
  if (c.state != State::open) return;
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xffff) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((uint64_t{payload.size()} >> shift) & 0xff);
  }
  const uint64_t random = next_random();
  char mask[4];
  std::memcpy(mask, &random, 4);
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  c.out += frame;
  flush(id);
}

void WsSwarm::flush(int id) {
  Conn& c = conns_[static_cast<size_t>(id)];
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return drop(id);
    c.out.erase(0, static_cast<size_t>(n));
  }
  if (c.state != State::connecting) watch(id, !c.out.empty());
}

void WsSwarm::watch(int id, bool want_write) {
  Conn& c = conns_[static_cast<size_t>(id)];
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0U);
  ev.data.u32 = static_cast<uint32_t>(id);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void WsSwarm::drop(int id) {
  Conn& c = conns_[static_cast<size_t>(id)];
  if (c.state == State::closed) return;
  const bool was_open = c.state == State::open;
  c.state = State::closed;
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }
  std::string().swap(c.in);
  std::string().swap(c.message);
  std::string().swap(c.out);
  handler_.on_closed(id, was_open);
}

void WsSwarm::run(const std::function<void()>& tick, int coalesce_us) {
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  auto next_tick = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      tick();
      next_tick = now + std::chrono::milliseconds(20);
    }
    const int n = epoll_wait(epoll_fd_, events, kBatch, 20);
    for (int i = 0; i < n; ++i) on_event(static_cast<int>(events[i].data.u32), events[i].events);
    if (coalesce_us > 0 && n < kBatch) std::this_thread::sleep_for(std::chrono::microseconds(coalesce_us));
  }
}

void WsSwarm::on_event(int id, uint32_t events) {
  Conn& c = conns_[static_cast<size_t>(id)];
  if (c.state == State::closed) return;
  if (c.state == State::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return drop(id);
    c.state = State::handshaking;
    c.out = std::move(c.request);
    return flush(id);
  }
  if ((events & EPOLLOUT) != 0U) {
    flush(id);
    if (c.state == State::closed) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0U) return;
  const ssize_t n = recv(c.fd, buffer_.data(), buffer_.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) return drop(id);
  on_bytes(id, buffer_.data(), static_cast<size_t>(n));
}

void WsSwarm::on_bytes(int id, const char* data, size_t size) {
  Conn& c = conns_[static_cast<size_t>(id)];
  if (c.state == State::handshaking) {
    c.in.append(data, size);
    const auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.in.size() > 16384) drop(id);
      return;
    }
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) return drop(id);
    c.in.erase(0, end + 4);
    c.state = State::open;
    handler_.on_open(id);
    if (c.state != State::open || c.in.empty()) return;
    std::string rest;
    rest.swap(c.in);
    return on_bytes(id, rest.data(), rest.size());
  }
  if (c.in.empty()) {  // the usual case: whole frames, parsed where they lie
    const size_t used = parse_frames(id, data, size);
    if (c.state == State::open && used < size) c.in.assign(data + used, size - used);
    return;
  }
  c.in.append(data, size);
  const size_t used = parse_frames(id, c.in.data(), c.in.size());
  if (c.state == State::open) c.in.erase(0, used);
}

size_t WsSwarm::parse_frames(int id, const char* data, size_t size) {
  Conn& c = conns_[static_cast<size_t>(id)];
  size_t at = 0;
  while (c.state == State::open && size - at >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(data + at);
    const bool fin = (p[0] & 0x80) != 0;
    const uint8_t opcode = p[0] & 0x0f;
    const bool masked = (p[1] & 0x80) != 0;
    uint64_t length = p[1] & 0x7f;
    size_t header = 2;
    if (length == 126) {
      if (size - at < 4) break;
      length = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (length == 127) {
      if (size - at < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      header = 10;
    }
    if (length > kMaxMessageBytes) {
      drop(id);
      break;
    }
    const size_t mask_at = header;
    if (masked) header += 4;
    if (size - at < header + length) break;
    std::string_view payload(data + at + header, static_cast<size_t>(length));
    std::string unmasked;
    if (masked) {  // servers do not mask, but a frame that is masked is still readable
      unmasked.assign(payload);
      for (size_t i = 0; i < unmasked.size(); ++i) unmasked[i] = static_cast<char>(unmasked[i] ^ p[mask_at + i % 4]);
      payload = unmasked;
    }
    at += header + static_cast<size_t>(length);
    if (opcode == kPing) {
      send_frame(id, 0xA, payload);
    } else if (opcode == kClose) {
      drop(id);
    } else if (opcode == kText || opcode == kBinary || opcode == kContinuation) {
      if (opcode != kContinuation) c.message_binary = opcode == kBinary;
      if (fin && opcode != kContinuation && c.message.empty()) {
        handler_.on_message(id, payload, c.message_binary);
      } else {
        c.message.append(payload);
        if (c.message.size() > kMaxMessageBytes) {
          drop(id);
        } else if (fin) {
          std::string whole;
          whole.swap(c.message);
          handler_.on_message(id, whole, c.message_binary);
        }
      }
    }
  }
  return at;
}

}  // namespace parley::tools
