// SPDX-License-Identifier: GPL-3.0-or-later
// One HTTP/1.1 exchange with an engine server, bounded by a deadline: the
// remote engines' transport (Boost.Beast; TLS with certificate and host name
// checks when the URL is https). Blocking: it runs on a remote engine's own
// workers (endpoint.h), never on a session worker or a network thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace parley::engines::remote {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;       // "80", "443" or as written
  std::string base_path;  // without a trailing '/', e.g. "/v1" or ""
  std::string text() const;
};

// "http://host:port/base" or "https://…". invalid_argument saying what is wrong.
core::Result<Url> parse_url(const std::string& text);

// invalid_argument when `path` holds no PEM certificate OpenSSL can load.
core::Status check_ca_file(const std::string& path);

struct HttpExchange {
  std::string method = "POST";
  std::string path;  // appended to the URL's base path
  std::string content_type;
  std::string body;
  std::string bearer;  // empty: no Authorization header
  std::string accept;
};

struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  // `ca_file`: PEM certificates to trust for https (a private CA); empty:
  // the system's.
  explicit HttpClient(Url url, const std::string& ca_file = "");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. unavailable (saying why: refused, reset, timed out, bad
  // TLS) when no whole answer arrived before `deadline`; any HTTP status is
  // an answer. Bodies above 64 MB are refused.
  core::Result<HttpAnswer> exchange(const HttpExchange& request,
                                    std::chrono::steady_clock::time_point deadline) const;
  const Url& url() const { return url_; }

 private:
  struct Tls;
  Url url_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace parley::engines::remote
