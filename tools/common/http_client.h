// SPDX-License-Identifier: GPL-3.0-or-later
// One blocking HTTP/1.1 request, for the load tools and the integration
// tests' support library (not the product).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>

namespace parley::tools {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string location;  // Location header, where sent
  std::string content_type;
};

inline HttpResult http_call(const std::string& host, unsigned short port, boost::beast::http::verb method,
                            const std::string& target, const std::string& body, const std::string& bearer = "",
                            const std::string& content_type = "application/json") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  net::ip::tcp::resolver resolver(ioc);
  stream.connect(resolver.resolve(host, std::to_string(port)));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  if (!body.empty()) req.set(http::field::content_type, content_type);
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  beast::error_code ec;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::location]),
          std::string(res[http::field::content_type])};
}

}  // namespace parley::tools
