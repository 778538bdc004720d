// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/proxies.h"

#include <gtest/gtest.h>

namespace parley::transport {
namespace {

boost::asio::ip::address ip(const char* s) { return boost::asio::ip::make_address(s); }

TEST(TrustedProxies, AddressesAndNetworksOfBothFamiliesMatchAndNothingElse) {
  auto p = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,2001:db8::/32");
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  EXPECT_TRUE(p->contains(ip("127.0.0.1")));
  EXPECT_TRUE(p->contains(ip("::ffff:127.0.0.1")));  // IPv4 on a dual-stack socket
  EXPECT_FALSE(p->contains(ip("127.0.0.2")));
  EXPECT_TRUE(p->contains(ip("10.200.3.4")));
  EXPECT_FALSE(p->contains(ip("11.0.0.1")));
  EXPECT_TRUE(p->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(p->contains(ip("2001:db9::1")));
  EXPECT_TRUE(TrustedProxies::parse("")->empty());
  EXPECT_FALSE(TrustedProxies::parse("")->contains(ip("127.0.0.1")));
  EXPECT_FALSE(TrustedProxies::parse("nginx").is_ok());
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/33").is_ok());
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/8x").is_ok());
}

TEST(TrustedProxies, TheLastForwardedAddressIsTheOneTheProxySaw) {
  // A client may send its own X-Forwarded-For: only what the proxy appended counts.
  EXPECT_EQ(TrustedProxies::last_forwarded("1.2.3.4, 203.0.113.9"), ip("203.0.113.9"));
  EXPECT_EQ(TrustedProxies::last_forwarded("203.0.113.9:4711"), ip("203.0.113.9"));
  EXPECT_EQ(TrustedProxies::last_forwarded("[2001:db8::7]:4711"), ip("2001:db8::7"));
  EXPECT_EQ(TrustedProxies::last_forwarded("2001:db8::7"), ip("2001:db8::7"));
  EXPECT_FALSE(TrustedProxies::last_forwarded("").has_value());
  EXPECT_FALSE(TrustedProxies::last_forwarded("unknown").has_value());
  EXPECT_FALSE(TrustedProxies::last_forwarded("1.2.3.4, [::1").has_value());
}

}  // namespace
}  // namespace parley::transport
