// SPDX-License-Identifier: GPL-3.0-or-later
// HTTP requests as the server reads them: Beast's parser with the server's
// limits, then parley's own parsing of the target, query, bearer token and
// the body of POST /api/sessions.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string_view>

#include "transport/http/requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  using namespace parley::transport;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)url_decode(text);
  (void)parse_session_spec(text);
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  const Target t = parse_target(req.target());
  (void)t.query("after", "0");
  (void)t.query("lang");
  (void)split_path(t.path);
  (void)bearer(req);
  (void)parse_session_spec(req.body());
  return 0;
}
