// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <future>
#include <optional>

namespace parley::testing {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;

// Every operation on the socket runs on the client's own I/O thread (Beast
// streams are not thread-safe); callers post to it and wait.
struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<net::ip::tcp::socket> ws{ioc};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{ioc.get_executor()};
  std::thread io;
  beast::flat_buffer buf;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> got;
  bool closed = false;

  void read() {
    ws.async_read(buf, [this](beast::error_code ec, size_t) {
      std::lock_guard lock(mu);
      if (ec) {
        closed = true;
        cv.notify_all();
        return;
      }
      Received r;
      r.binary = !ws.got_text();
      r.bytes = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (!r.binary) r.json = nlohmann::json::parse(r.bytes, nullptr, false);
      r.at = std::chrono::steady_clock::now();
      got.push_back(std::move(r));
      cv.notify_all();
      read();
    });
  }

  // Runs fn on the I/O thread and waits for it.
  void run(const std::function<void()>& fn) {
    std::promise<void> done;
    net::post(ioc, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
};

WsClient::WsClient(unsigned short port, bool read, int receive_buffer_bytes, const std::string& target)
    : impl_(std::make_unique<Impl>()) {
  auto& sock = impl_->ws.next_layer();
  sock.open(net::ip::tcp::v4());
  if (receive_buffer_bytes > 0) sock.set_option(net::socket_base::receive_buffer_size(receive_buffer_bytes));
  sock.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  impl_->ws.handshake("127.0.0.1:" + std::to_string(port), target);
  impl_->io = std::thread([this] { impl_->ioc.run(); });
  if (read) net::post(impl_->ioc, [this] { impl_->read(); });
}

WsClient::~WsClient() {
  impl_->run([this] {
    beast::error_code ec;
    impl_->ws.next_layer().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    impl_->ws.next_layer().close(ec);
  });
  impl_->work.reset();
  impl_->io.join();
}

void WsClient::send_text(const std::string& text) {
  beast::error_code ec;
  impl_->run([&] {
    impl_->ws.text(true);
    impl_->ws.write(net::buffer(text), ec);  // a sync write while the async read waits: one of each is allowed
  });
  if (ec) throw beast::system_error(ec);
}

void WsClient::send_binary(const std::string& bytes) {
  impl_->run([&] {
    impl_->ws.binary(true);
    beast::error_code ec;
    impl_->ws.write(net::buffer(bytes), ec);
  });
}

void WsClient::send_frame(uint32_t seq, const std::vector<int16_t>& pcm) {
  std::string b(4 + pcm.size() * 2, '\0');
  for (int i = 0; i < 4; ++i) b[static_cast<size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
  for (size_t i = 0; i < pcm.size(); ++i) {
    auto v = static_cast<uint16_t>(pcm[i]);
    b[4 + 2 * i] = static_cast<char>(v & 0xff);
    b[5 + 2 * i] = static_cast<char>(v >> 8);
  }
  send_binary(b);
}

void WsClient::close() {
  // Asynchronous: the pending read receives the server's close frame.
  impl_->run([this] { impl_->ws.async_close(websocket::close_code::normal, [](beast::error_code) {}); });
}

std::vector<Received> WsClient::messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->got;
}

std::vector<nlohmann::json> WsClient::of_type(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (const auto& m : messages()) {
    if (!m.binary && m.json.is_object() && m.json.value("type", "") == type) out.push_back(m.json);
  }
  return out;
}

size_t WsClient::n_binary() const {
  size_t n = 0;
  for (const auto& m : messages()) n += m.binary ? 1 : 0;
  return n;
}

bool WsClient::wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                        std::chrono::milliseconds timeout) {
  // The predicate runs without the lock held, so it may call back into this client.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<Received> snapshot;
    bool was_closed = false;
    {
      std::lock_guard lock(impl_->mu);
      snapshot = impl_->got;
      was_closed = impl_->closed;
    }
    if (pred(snapshot)) return true;
    std::unique_lock lock(impl_->mu);
    const size_t seen = snapshot.size();
    bool changed = impl_->cv.wait_until(lock, deadline, [&] {
      return impl_->got.size() != seen || impl_->closed != was_closed;
    });
    if (!changed) {
      lock.unlock();
      return pred(messages());
    }
  }
}

bool WsClient::wait_for_type(const std::string& type, std::chrono::milliseconds timeout, size_t count) {
  return wait_for(
      [&](const std::vector<Received>& got) {
        size_t n = 0;
        for (const auto& m : got) {
          if (!m.binary && m.json.is_object() && m.json.value("type", "") == type) ++n;
        }
        return n >= count;
      },
      timeout);
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

}  // namespace parley::testing
