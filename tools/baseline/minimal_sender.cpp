// SPDX-License-Identifier: GPL-3.0-or-later
// The floor parley's fan-out is compared with: a minimal one-thread
// Boost.Beast WebSocket server. Listeners join; each text a speaker sends is
// wrapped once as a final caption and written to every listener, each with
// its own queue (so one slow reader does not block the rest). No sessions,
// no history, no engines, no limits: only what a broadcast costs.
//
//   parley-minimal-sender [--port N]   (prints the port it listens on)
//
// It speaks enough of parley's protocol (join, text, final) for parley-load
// --target minimal.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Connection;
std::unordered_set<Connection*> g_listeners;
uint64_t g_seq = 0;

// Escapes a string for a JSON string literal.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// The value of "text" in a small JSON object, or empty.
std::string text_field(const std::string& m) {
  const auto k = m.find("\"text\":\"");
  if (k == std::string::npos) return {};
  std::string out;
  for (size_t i = k + 8; i < m.size() && m[i] != '"'; ++i) {
    if (m[i] == '\\' && i + 1 < m.size()) ++i;
    out += m[i];
  }
  return out;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket s) : ws_(std::move(s)) {}
  ~Connection() { g_listeners.erase(this); }

  void start() {
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

  void send(std::shared_ptr<const std::string> m) {
    queue_.push_back(std::move(m));
    if (queue_.size() == 1) write_next();
  }

 private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      const std::string m = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      self->on_message(m);
      self->read();
    });
  }

  void on_message(const std::string& m) {
    if (m.find("\"join\"") != std::string::npos) {
      if (m.find("\"listener\"") != std::string::npos) {
        g_listeners.insert(this);
        send(std::make_shared<const std::string>(R"({"type":"welcome","protocol":1})"));
      }
      return;
    }
    if (m.find("\"type\":\"text\"") != std::string::npos) {
      auto msg = std::make_shared<const std::string>(R"({"type":"final","seq":)" + std::to_string(++g_seq) +
                                                     R"(,"language":"en","text":)" + json_string(text_field(m)) + "}");
      for (auto* l : g_listeners) l->send(msg);
    }
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->queue_.pop_front();
      if (!ec && !self->queue_.empty()) self->write_next();
    });
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  std::deque<std::shared_ptr<const std::string>> queue_;
};

void accept(tcp::acceptor& a) {
  a.async_accept([&a](beast::error_code ec, tcp::socket s) {
    if (!ec) std::make_shared<Connection>(std::move(s))->start();
    accept(a);
  });
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
  }
  net::io_context ioc(1);
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  a.set_option(net::socket_base::reuse_address(true));
  std::printf("minimal sender listening on port %u\n", a.local_endpoint().port());
  std::fflush(stdout);
  accept(a);
  ioc.run();
}
