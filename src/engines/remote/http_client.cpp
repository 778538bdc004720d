// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/remote/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <optional>
#include <type_traits>

namespace parley::engines::remote {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr uint64_t kMaxAnswerBytes = 64u << 20;

// The state of one exchange; every step's handler runs on the call's own
// io_context, on the calling thread.
template <class Stream>
struct Exchange {
  Stream stream;
  const Url& url;
  http::request<http::string_body> req;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  tcp::resolver resolver;
  std::chrono::steady_clock::time_point deadline;
  std::optional<core::Result<HttpAnswer>> result;

  Exchange(Stream s, const Url& u, net::io_context& ioc, std::chrono::steady_clock::time_point d)
      : stream(std::move(s)), url(u), resolver(ioc), deadline(d) {}

  void fail(const std::string& step, beast::error_code ec) {
    if (result) return;
    const std::string why = ec == beast::error::timeout ? "no answer in time" : ec.message();
    result = core::unavailable(url.text() + ": " + step + " failed: " + why);
  }
};

}  // namespace

std::string Url::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + port + base_path;
}

core::Status check_ca_file(const std::string& path) {
  ssl::context ctx{ssl::context::tls_client};
  boost::system::error_code ec;
  ctx.load_verify_file(path, ec);
  if (ec) return core::invalid_argument("ca-file " + path + " holds no usable PEM certificate (" + ec.message() + ")");
  return {};
}

core::Result<Url> parse_url(const std::string& text) {
  Url url;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return core::invalid_argument("engine URL '" + text + "' must start with http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (authority.find_first_of("?#") != std::string::npos) {
    return core::invalid_argument("engine URL '" + text + "' has a query or fragment; give the API's root only");
  }
  url.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
  if (authority.find('@') != std::string::npos) {
    return core::invalid_argument("engine URL '" + text + "' holds credentials: give the key with key-env instead");
  }
  std::string host = authority;
  std::string port = url.tls ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) return core::invalid_argument("engine URL '" + text + "' has an unclosed [");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return core::invalid_argument("engine URL '" + text + "' has no host");
  if (const auto q = url.base_path.find_first_of("?#"); q != std::string::npos) {
    return core::invalid_argument("engine URL '" + text + "' has a query or fragment; give the API's root only");
  }
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return core::invalid_argument("engine URL '" + text + "' has a bad port (1 to 65535)");
  }
  url.host = host;
  url.port = port;
  return url;
}

struct HttpClient::Tls {
  ssl::context ctx{ssl::context::tls_client};
};

HttpClient::HttpClient(Url url, const std::string& ca_file) : url_(std::move(url)) {
  if (url_.tls) {
    tls_ = std::make_unique<Tls>();
    boost::system::error_code ec;
    if (!ca_file.empty()) {
      tls_->ctx.load_verify_file(ca_file, ec);  // checked when configured (check_ca_file)
    } else {
      tls_->ctx.set_default_verify_paths();
    }
    tls_->ctx.set_verify_mode(ssl::verify_peer);
  }
}

HttpClient::~HttpClient() = default;

namespace {

http::request<http::string_body> make_request(const Url& url, const HttpExchange& x) {
  http::request<http::string_body> req{http::string_to_verb(x.method), url.base_path + x.path, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::user_agent, "parley");
  if (!x.content_type.empty()) req.set(http::field::content_type, x.content_type);
  if (!x.accept.empty()) req.set(http::field::accept, x.accept);
  if (!x.bearer.empty()) req.set(http::field::authorization, "Bearer " + x.bearer);
  req.keep_alive(false);
  req.body() = x.body;
  req.prepare_payload();
  return req;
}

HttpAnswer to_answer(http::response<http::string_body>&& res) {
  return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), std::move(res.body())};
}

// resolve → connect → [handshake] → write → read, each bounded by the deadline.
template <class Stream>
void run_exchange(std::shared_ptr<Exchange<Stream>> x) {
  auto& lowest = beast::get_lowest_layer(x->stream);
  x->resolver.async_resolve(x->url.host, x->url.port, [x, &lowest](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) return x->fail("resolving " + x->url.host, ec);
    lowest.expires_at(x->deadline);
    lowest.async_connect(r, [x, &lowest](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) return x->fail("connecting", ec2);
      auto write = [x, &lowest] {
        lowest.expires_at(x->deadline);
        http::async_write(x->stream, x->req, [x, &lowest](beast::error_code ec3, size_t) {
          if (ec3) return x->fail("sending the request", ec3);
          lowest.expires_at(x->deadline);
          x->parser.emplace();
          x->parser->body_limit(kMaxAnswerBytes);
          http::async_read(x->stream, x->buffer, *x->parser, [x](beast::error_code ec4, size_t) {
            if (ec4) return x->fail("reading the answer", ec4);
            if (!x->result) x->result = to_answer(x->parser->release());
          });
        });
      };
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        write();
      } else {
        if (!SSL_set_tlsext_host_name(x->stream.native_handle(), x->url.host.c_str())) {
          return x->fail("TLS setup", beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
        }
        x->stream.set_verify_callback(ssl::host_name_verification(x->url.host));
        x->stream.async_handshake(ssl::stream_base::client, [x, write](beast::error_code ec3) {
          if (ec3) return x->fail("the TLS handshake", ec3);
          write();
        });
      }
    });
  });
}

}  // namespace

core::Result<HttpAnswer> HttpClient::exchange(const HttpExchange& request,
                                              std::chrono::steady_clock::time_point deadline) const {
  if (std::chrono::steady_clock::now() >= deadline) return core::unavailable(url_.text() + ": no time left for a call");
  net::io_context ioc;
  std::optional<core::Result<HttpAnswer>> result;
  if (url_.tls) {
    auto x = std::make_shared<Exchange<ssl::stream<beast::tcp_stream>>>(
        ssl::stream<beast::tcp_stream>(ioc, tls_->ctx), url_, ioc, deadline);
    x->req = make_request(url_, request);
    run_exchange(x);
    ioc.run_until(deadline + std::chrono::milliseconds(50));
    result = std::move(x->result);
  } else {
    auto x = std::make_shared<Exchange<beast::tcp_stream>>(beast::tcp_stream(ioc), url_, ioc, deadline);
    x->req = make_request(url_, request);
    run_exchange(x);
    ioc.run_until(deadline + std::chrono::milliseconds(50));
    result = std::move(x->result);
  }
  if (!result) return core::unavailable(url_.text() + ": no answer in time");
  return std::move(*result);
}

}  // namespace parley::engines::remote
