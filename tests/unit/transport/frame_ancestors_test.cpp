// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "transport/http/api.h"

namespace parley::transport {
namespace {

TEST(FrameAncestors, OriginsSelfAnyAndNoneBecomeCspSources) {
  EXPECT_EQ(*frame_ancestors("*"), "*");
  EXPECT_EQ(*frame_ancestors("none"), "'none'");
  EXPECT_EQ(*frame_ancestors(""), "'none'");
  EXPECT_EQ(*frame_ancestors("self, https://www.example.org  https://*.example.net:8443"),
            "'self' https://www.example.org https://*.example.net:8443");
  EXPECT_EQ(*frame_ancestors("'self' intranet.example.org"), "'self' intranet.example.org");
  EXPECT_EQ(*frame_ancestors("http://[::1]:8080 http://127.0.0.1:9000"), "http://[::1]:8080 http://127.0.0.1:9000");
}

TEST(FrameAncestors, AnythingThatCouldBreakOutOfTheHeaderIsRefused) {
  for (const char* bad : {"https://a.example; script-src *", "'unsafe-inline'", "https://a.example/path",
                          "://nohost", "https://", "none https://a.example", "a\"b", "https://a.example\r\nX: y",
                          "https://x.org:99999", "http://x.org:0", "ftp://x.org", "https://x.org:", "https://a..b",
                          "https://a*.example", "http://[::1", "http://[zz]"}) {
    auto r = frame_ancestors(bad);
    EXPECT_FALSE(r.is_ok()) << bad;
  }
  EXPECT_NE(frame_ancestors("https://a.example; x").status().message().find("is not an origin"), std::string::npos);
}

}  // namespace
}  // namespace parley::transport
