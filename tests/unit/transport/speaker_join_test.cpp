// SPDX-License-Identifier: GPL-3.0-or-later
// A speaker's join on the wire: takeover, and the generation a page that
// lost its connection resumes (session/links.h).
#include <gtest/gtest.h>

#include "transport/ws/client_messages.h"

namespace parley::transport::ws {
namespace {

TEST(SpeakerJoin, ResumeIsTheGenerationOfAnEarlierWelcome) {
  auto j = parse_join(R"({"type":"join","role":"speaker","code":"123456","token":"t","takeover":true,"resume":7})");
  const auto* s = std::get_if<SpeakerJoin>(&j);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->takeover);
  ASSERT_TRUE(s->resume.has_value());
  EXPECT_EQ(*s->resume, 7u);
  j = parse_join(R"({"type":"join","role":"speaker","code":"123456","token":"t","takeover":true})");
  ASSERT_NE(std::get_if<SpeakerJoin>(&j), nullptr);
  EXPECT_FALSE(std::get_if<SpeakerJoin>(&j)->resume.has_value()) << "a reload resumes nothing";
  for (const char* bad : {R"({"type":"join","role":"speaker","code":"1","token":"t","resume":-1})",
                          R"({"type":"join","role":"speaker","code":"1","token":"t","resume":"7"})",
                          R"({"type":"join","role":"speaker","code":"1","token":"t","resume":1.5})"}) {
    const auto* r = std::get_if<Refusal>(&(j = parse_join(bad)));
    ASSERT_NE(r, nullptr) << bad;
    EXPECT_EQ(r->code, "bad_message") << bad;
    EXPECT_FALSE(r->close_reason.empty()) << bad;
  }
}

}  // namespace
}  // namespace parley::transport::ws
