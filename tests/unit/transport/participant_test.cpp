// SPDX-License-Identifier: GPL-3.0-or-later
// A conversation's participant on the wire: the join, what the page sends,
// and the "from" every forwarded message gains.
#include "transport/ws/participant.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "session/wire.h"
#include "transport/ws/client_messages.h"

namespace parley::transport::ws {
namespace {

using nlohmann::json;

TEST(Participant, JoinsWithTheIdAndTokenFromRestAndWhatItAlreadyShows) {
  auto j = parse_join(R"({"type":"join","role":"participant","code":"123456","participant":"ab12cd34",
                          "token":"t0k","sampleRate":48000,"since":{"ab12cd34":4,"ffff0000":-3,"x":"y"}})");
  const auto* p = std::get_if<ParticipantJoin>(&j);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->code, "123456");
  EXPECT_EQ(p->participant, "ab12cd34");
  EXPECT_EQ(p->token, "t0k");
  EXPECT_EQ(p->sample_rate_hz, 48000);
  EXPECT_EQ(p->since.at("ab12cd34"), 4);
  EXPECT_EQ(p->since.at("ffff0000"), 0) << "never below 0";
  EXPECT_EQ(p->since.count("x"), 0u) << "not a number: ignored";
  for (const char* bad : {R"({"type":"join","role":"participant","code":"123456","token":"t"})",
                          R"({"type":"join","role":"participant","code":"123456","participant":"a"})",
                          R"({"type":"join","role":"participant","code":"1","participant":"a","token":"t","sampleRate":4000})"}) {
    const auto* r = std::get_if<Refusal>(&(j = parse_join(bad)));
    ASSERT_NE(r, nullptr) << bad;
    EXPECT_FALSE(r->close_reason.empty()) << bad;
  }
  // A listener's stray sampleRate is none of its business, as before.
  EXPECT_NE(std::get_if<ListenerJoin>(&(j = parse_join(R"({"type":"join","role":"listener","code":"1","language":"es","sampleRate":"x"})"))),
            nullptr);
}

TEST(Participant, PageMessagesPlayingOneAtATimeLeaveAndWhosePlaybackItWas) {
  auto m = parse_message(R"({"type":"playing","playing":true})");
  ASSERT_TRUE(std::holds_alternative<Playing>(m));
  EXPECT_TRUE(std::get<Playing>(m).on);
  m = parse_message(R"({"type":"halfDuplex","on":false})");
  ASSERT_TRUE(std::holds_alternative<HalfDuplex>(m));
  EXPECT_FALSE(std::get<HalfDuplex>(m).on);
  EXPECT_TRUE(std::holds_alternative<Leave>(parse_message(R"({"type":"leave"})")));
  m = parse_message(R"({"type":"playback","seq":3,"lagMs":900,"from":"ab12cd34"})");
  ASSERT_TRUE(std::holds_alternative<PlaybackReport>(m));
  EXPECT_EQ(std::get<PlaybackReport>(m).from, "ab12cd34");
  EXPECT_TRUE(std::holds_alternative<Refusal>(parse_message(R"({"type":"playing","playing":"yes"})")));
  EXPECT_TRUE(std::holds_alternative<Refusal>(parse_message(R"({"type":"halfDuplex"})")));
}

TEST(Participant, ForwardedMessagesSayWhoseTheyAre) {
  // Text: "from" first, the rest as it was.
  auto final_msg = session::wire::final_caption({.seq = 7, .language = "es", .source = "hi", .text = "hola"}, false);
  auto tagged = tag_from(*final_msg, "ab12cd34");
  EXPECT_EQ(tagged->kind, fanout::Kind::final) << "the same overflow policy";
  auto j = json::parse(tagged->bytes);
  EXPECT_EQ(j["from"], "ab12cd34");
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["text"], "hola");
  EXPECT_EQ(json::parse(tag_from(*fanout::make_text(fanout::Kind::control, "{}"), "x")->bytes), json({{"from", "x"}}));
  // Binary speech: wrapped, the speech message whole inside.
  auto speech = session::wire::speech(7, 1, 900, {}, "OggS-audio");
  auto wrapped = tag_from(*speech, "ab12cd34");
  ASSERT_TRUE(wrapped->binary);
  EXPECT_EQ(wrapped->kind, fanout::Kind::audio) << "still dropped first when a page falls behind";
  ASSERT_GT(wrapped->bytes.size(), 12u);
  EXPECT_EQ(wrapped->bytes[0], 'P');
  EXPECT_EQ(static_cast<uint8_t>(wrapped->bytes[1]), kFromBinaryKind);
  EXPECT_EQ(static_cast<uint8_t>(wrapped->bytes[3]), 8u);
  EXPECT_EQ(wrapped->bytes.substr(4, 8), "ab12cd34");
  auto inner = session::wire::parse_speech(std::string_view(wrapped->bytes).substr(12));
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(inner->seq, 7);
  EXPECT_EQ(inner->ogg, "OggS-audio");
}

}  // namespace
}  // namespace parley::transport::ws
