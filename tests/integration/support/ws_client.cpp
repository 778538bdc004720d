// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace parley::testing {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;

struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<net::ip::tcp::socket> ws{ioc};
  std::thread reader;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> got;
  bool closed = false;
  std::mutex write_mu;
};

WsClient::WsClient(unsigned short port, bool read, int receive_buffer_bytes) : impl_(std::make_unique<Impl>()) {
  auto& sock = impl_->ws.next_layer();
  sock.open(net::ip::tcp::v4());
  if (receive_buffer_bytes > 0) sock.set_option(net::socket_base::receive_buffer_size(receive_buffer_bytes));
  sock.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  impl_->ws.handshake("127.0.0.1:" + std::to_string(port), "/ws");
  if (!read) return;
  impl_->reader = std::thread([this] {
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      impl_->ws.read(buf, ec);
      std::lock_guard lock(impl_->mu);
      if (ec) {
        impl_->closed = true;
        impl_->cv.notify_all();
        return;
      }
      Received r;
      r.binary = !impl_->ws.got_text();
      r.bytes = beast::buffers_to_string(buf.data());
      if (!r.binary) r.json = nlohmann::json::parse(r.bytes, nullptr, false);
      r.at = std::chrono::steady_clock::now();
      impl_->got.push_back(std::move(r));
      impl_->cv.notify_all();
    }
  });
}

WsClient::~WsClient() {
  beast::error_code ec;
  impl_->ws.next_layer().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  impl_->ws.next_layer().close(ec);
  if (impl_->reader.joinable()) impl_->reader.join();
}

void WsClient::send_text(const std::string& text) {
  std::lock_guard lock(impl_->write_mu);
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(text));
}

void WsClient::send_binary(const std::string& bytes) {
  std::lock_guard lock(impl_->write_mu);
  impl_->ws.binary(true);
  beast::error_code ec;
  impl_->ws.write(net::buffer(bytes), ec);
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
  std::lock_guard lock(impl_->write_mu);
  beast::error_code ec;
  impl_->ws.close(websocket::close_code::normal, ec);
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
