// SPDX-License-Identifier: GPL-3.0-or-later
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/http_client.h"

namespace parley::testing {
namespace {

namespace http = boost::beast::http;

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one request (headers and a Content-Length body) within 10 s.
bool read_request(int fd, http::request<http::string_body>& out) {
  std::string data;
  char buf[65536];
  http::request_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  parser.eager(true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!parser.is_done()) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    boost::beast::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(data), ec);
    if (ec == http::error::need_more) ec = {};
    if (ec) return false;
    data.erase(0, used);
  }
  out = parser.release();
  return true;
}

std::string response(int status, const std::string& type, const std::string& body) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, type);
  res.keep_alive(false);
  res.body() = body;
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

}  // namespace

FaultProxy::FaultProxy(unsigned short upstream_port) : upstream_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mu_);
  for (auto& t : connections_) t.join();
}

void FaultProxy::set(Mode mode, std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
  mode_ = mode;
}

void FaultProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void FaultProxy::serve(int fd) {
  http::request<http::string_body> req;
  if (!read_request(fd, req)) {
    ::close(fd);
    return;
  }
  const Mode mode = mode_.load();
  ++handled_[static_cast<size_t>(mode)];
  switch (mode) {
    case Mode::error_500:
      write_all(fd, response(500, "application/json", R"({"error": "injected failure"})"));
      break;
    case Mode::garbage:
      write_all(fd, response(200, "application/json", "<html>this is not the JSON you asked for"));
      break;
    case Mode::truncated: {
      // Promises 4,000 bytes, sends a few, hangs up.
      write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
                    "{\"translatedText\": \"Hola, est");
      break;
    }
    case Mode::drop:
      break;
    case Mode::slow:
    case Mode::pass: {
      if (mode == Mode::slow) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
      std::string bearer;
      const auto auth = std::string(req[http::field::authorization]);
      if (auth.rfind("Bearer ", 0) == 0) bearer = auth.substr(7);
      try {
        auto r = tools::http_call("127.0.0.1", upstream_, req.method(), std::string(req.target()), req.body(), bearer,
                                  std::string(req[http::field::content_type]));
        write_all(fd, response(r.status, r.content_type, r.body));
      } catch (const std::exception&) {
        write_all(fd, response(502, "application/json", R"({"error": "upstream unreachable"})"));
      }
      break;
    }
  }
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

}  // namespace parley::testing
