// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/guard/limits.h"

#include <gtest/gtest.h>

#include <thread>

namespace parley::transport::guard {
namespace {

namespace ip = boost::asio::ip;

TEST(Guard, ABurstIsAllowedThenRefusedWithWhenToRetry) {
  GuardConfig c;
  c.rates[static_cast<size_t>(Action::unknown_code)] = {60, 3};  // one a second, three at once
  auto g = std::make_shared<Guard>(c);
  const auto a = ip::make_address("192.0.2.7");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(g->allow(a, Action::unknown_code));
  int retry = 0;
  EXPECT_FALSE(g->allow(a, Action::unknown_code, &retry));
  EXPECT_EQ(retry, 1);
  auto st = g->take(a, Action::unknown_code);
  EXPECT_EQ(st.code(), core::Code::resource_exhausted);
  EXPECT_EQ(st.retry_after_s(), 1);
  EXPECT_NE(st.message().find("codes that do not exist"), std::string::npos);
  EXPECT_FALSE(g->peek(a, Action::unknown_code));
  // Another address and another action have buckets of their own.
  EXPECT_TRUE(g->allow(ip::make_address("192.0.2.8"), Action::unknown_code));
  EXPECT_TRUE(g->allow(a, Action::join));
  EXPECT_EQ(g->stats().limited[static_cast<size_t>(Action::unknown_code)], 3u);
}

TEST(Guard, TokensComeBackAtTheConfiguredRate) {
  GuardConfig c;
  c.rates[static_cast<size_t>(Action::bad_credential)] = {600, 1};  // one every 100 ms
  auto g = std::make_shared<Guard>(c);
  const auto a = ip::make_address("198.51.100.1");
  EXPECT_TRUE(g->allow(a, Action::bad_credential));
  EXPECT_FALSE(g->allow(a, Action::bad_credential));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_TRUE(g->peek(a, Action::bad_credential));
  EXPECT_TRUE(g->allow(a, Action::bad_credential));
}

TEST(Guard, ZeroMeansUnlimited) {
  GuardConfig c;
  c.rates[static_cast<size_t>(Action::join)] = {0, 0};
  c.max_connections_per_address = 0;
  auto g = std::make_shared<Guard>(c);
  const auto a = ip::make_address("127.0.0.1");
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(g->allow(a, Action::join));
  std::vector<std::shared_ptr<Guard::Slot>> slots;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(slots.emplace_back(g->open_connection(a)));
}

TEST(Guard, ConnectionSlotsAreCappedPerAddressAndReleased) {
  GuardConfig c;
  c.max_connections_per_address = 2;
  auto g = std::make_shared<Guard>(c);
  const auto a = ip::make_address("203.0.113.5");
  auto s1 = g->open_connection(a);
  auto s2 = g->open_connection(a);
  ASSERT_TRUE(s1 && s2);
  EXPECT_FALSE(g->open_connection(a));
  EXPECT_TRUE(g->open_connection(ip::make_address("203.0.113.6")));
  s1.reset();
  EXPECT_TRUE(g->open_connection(a));
  EXPECT_EQ(g->stats().connections_refused, 1u);
}

TEST(Guard, Ipv6ClientsAreKeyedByTheirSlash64) {
  EXPECT_EQ(address_key(ip::make_address("2001:db8:1:2:aaaa::1")), address_key(ip::make_address("2001:db8:1:2:bbbb::9")));
  EXPECT_NE(address_key(ip::make_address("2001:db8:1:2::1")), address_key(ip::make_address("2001:db8:1:3::1")));
  EXPECT_EQ(address_key(ip::make_address("::ffff:192.0.2.1")), "192.0.2.1");
  GuardConfig c;
  c.max_connections_per_address = 1;
  auto g = std::make_shared<Guard>(c);
  auto held = g->open_connection(ip::make_address("2001:db8:1:2::1"));
  EXPECT_FALSE(g->open_connection(ip::make_address("2001:db8:1:2::ffff")));
}

}  // namespace
}  // namespace parley::transport::guard
