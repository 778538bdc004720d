// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/proxies.h"

#include <array>

namespace parley::transport {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The address's bytes (IPv4-mapped IPv6 as IPv4).
std::vector<unsigned char> bytes_of(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    const auto b = a.to_v6().to_bytes();
    return {b.begin() + 12, b.end()};
  }
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  const auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}
}  // namespace

core::Result<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    const auto slash = item.find('/');
    boost::system::error_code ec;
    const auto base = boost::asio::ip::make_address(std::string(item.substr(0, slash)), ec);
    if (ec) {
      std::string message(item);
      message += " is not an address or network; write e.g. 127.0.0.1, 10.0.0.0/8 or ::1";
      return core::invalid_argument(message);
    }
    const int bits = static_cast<int>(bytes_of(base).size() * 8);
    int prefix = bits;
    if (slash != std::string_view::npos) {
      try {
        size_t used = 0;
        const std::string p(item.substr(slash + 1));
        prefix = std::stoi(p, &used);
        if (used != p.size() || prefix < 0 || prefix > bits) throw std::out_of_range("prefix");
      } catch (const std::exception&) {
        std::string message(item);
        message += " has no valid prefix length (0–" + std::to_string(bits) + ")";
        return core::invalid_argument(message);
      }
    }
    out.networks_.push_back({base, prefix});
  }
  return out;
}

bool TrustedProxies::contains(const boost::asio::ip::address& a) const {
  const auto have = bytes_of(a);
  for (const auto& n : networks_) {
    const auto want = bytes_of(n.base);
    if (want.size() != have.size()) continue;
    bool match = true;
    for (int bit = 0; bit < n.prefix && match; ++bit) {
      const auto mask = static_cast<unsigned char>(0x80u >> (bit % 8));
      match = (want[static_cast<size_t>(bit / 8)] & mask) == (have[static_cast<size_t>(bit / 8)] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::optional<boost::asio::ip::address> TrustedProxies::last_forwarded(std::string_view header) {
  const auto comma = header.rfind(',');
  auto last = trim(comma == std::string_view::npos ? header : header.substr(comma + 1));
  // "[2001:db8::1]:4711" and "192.0.2.1:4711" carry ports at some proxies.
  if (!last.empty() && last.front() == '[') {
    const auto close = last.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    last = last.substr(1, close - 1);
  } else if (last.find(':') != std::string_view::npos && last.find(':') == last.rfind(':')) {
    last = last.substr(0, last.find(':'));
  }
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(last), ec);
  if (ec) return std::nullopt;
  return a;
}

}  // namespace parley::transport
