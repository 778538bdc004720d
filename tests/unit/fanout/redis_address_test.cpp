// SPDX-License-Identifier: GPL-3.0-or-later
// --redis's addresses: host and port, with a password (requirepass) or an
// ACL user and password, in the URL form or bare.
#include <gtest/gtest.h>

#include "fanout/redis_bus.h"

namespace parley::fanout {
namespace {

TEST(RedisAddress, HostPortPasswordAndUserAreReadInEitherForm) {
  auto plain = parse_redis_address("10.0.0.5:6380");
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(plain->host, "10.0.0.5");
  EXPECT_EQ(plain->port, 6380);
  EXPECT_TRUE(plain->password.empty());

  auto password = parse_redis_address("redis://:s3cr:et@redis.internal:6379/");
  ASSERT_TRUE(password.is_ok());
  EXPECT_EQ(password->host, "redis.internal");
  EXPECT_EQ(password->user, "");
  EXPECT_EQ(password->password, "s3cr:et");

  auto user = parse_redis_address("parley:pw@127.0.0.1:6379");
  ASSERT_TRUE(user.is_ok());
  EXPECT_EQ(user->user, "parley");
  EXPECT_EQ(user->password, "pw");
  EXPECT_EQ(user->port, 6379);
}

TEST(RedisAddress, ABadAddressIsRefusedWithoutEchoingItsPassword) {
  auto bad = parse_redis_address(":hunter2@host:notaport");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(parse_redis_address(":pw@").is_ok());
}

}  // namespace
}  // namespace parley::fanout
