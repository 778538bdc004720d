// SPDX-License-Identifier: GPL-3.0-or-later
// Reverse proxies the operator trusts (serve --trusted-proxies): behind
// nginx every connection comes from nginx's address, so per-address limits
// would count all clients as one. A connection from a trusted proxy is not
// capped as such; each request counts against the address the proxy puts
// last in X-Forwarded-For (the peer it saw). Nobody else can set it: the
// header is ignored on connections from anywhere else.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::transport {

class TrustedProxies {
 public:
  // "127.0.0.1, 10.0.0.0/8, ::1" (empty: none).
  static core::Result<TrustedProxies> parse(std::string_view list);
  bool empty() const { return networks_.empty(); }
  bool contains(const boost::asio::ip::address& a) const;
  // The last address of an X-Forwarded-For value; nullopt when it has none
  // that parses.
  static std::optional<boost::asio::ip::address> last_forwarded(std::string_view header);

 private:
  struct Network {
    boost::asio::ip::address base;
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace parley::transport
