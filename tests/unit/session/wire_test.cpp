// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/wire.h"

#include <gtest/gtest.h>

namespace parley::session::wire {
namespace {

using avatar::Viseme;

TEST(SpeechMessage, CarriesItsTimelineAndAudio) {
  avatar::Timeline t;
  t.sample_rate_hz = 22050;
  t.entries = {{Viseme::sil, 0}, {Viseme::PP, 300}, {Viseme::aa, 2205}, {Viseme::sil, 9000000}};
  const std::string ogg = "OggS-pretend-audio";
  auto m = speech(42, 7, 1500, t, ogg);
  EXPECT_EQ(m->kind, fanout::Kind::audio);
  EXPECT_TRUE(m->binary);
  auto parsed = parse_speech(m->bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->seq, 42);
  EXPECT_EQ(parsed->utterance_id, 7U);
  EXPECT_EQ(parsed->duration_ms, 1500);
  EXPECT_EQ(parsed->timeline.sample_rate_hz, 22050);
  ASSERT_EQ(parsed->timeline.entries.size(), 4U);
  EXPECT_EQ(parsed->timeline.entries[1].viseme, Viseme::PP);
  EXPECT_EQ(parsed->timeline.entries[2].sample, 2205);
  EXPECT_EQ(parsed->timeline.entries[3].sample, 9000000) << "24-bit positions: minutes of audio";
  EXPECT_EQ(parsed->ogg, ogg);
  EXPECT_EQ(m->bytes.size(), kSpeechFixedHeaderBytes + 4 * 4 + ogg.size());
}

TEST(SpeechMessage, TimelineOnlyKeepsEverythingButTheAudio) {
  avatar::Timeline t;
  t.sample_rate_hz = 22050;
  t.entries = {{Viseme::sil, 0}, {Viseme::E, 441}, {Viseme::sil, 30000}};
  auto full = speech(9, 3, 1200, t, std::string(12000, 'x'));
  auto cut = speech_timeline_only(*full);
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->kind, fanout::Kind::audio) << "still dropped first under back-pressure";
  EXPECT_TRUE(cut->binary);
  EXPECT_EQ(cut->bytes.size(), kSpeechFixedHeaderBytes + 3 * 4);
  auto parsed = parse_speech(cut->bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->seq, 9);
  EXPECT_EQ(parsed->duration_ms, 1200);
  ASSERT_EQ(parsed->timeline.entries.size(), 3U);
  EXPECT_EQ(parsed->timeline.entries[1].viseme, Viseme::E);
  EXPECT_TRUE(parsed->ogg.empty());
  EXPECT_EQ(speech_timeline_only(*fanout::make_text(fanout::Kind::final, "{}")), nullptr);
  EXPECT_EQ(speech_timeline_only(*fanout::make_binary(fanout::Kind::audio, "OggS…")), nullptr);
}

TEST(SpeechMode, Names) {
  EXPECT_EQ(parse_speech_mode("full"), SpeechMode::full);
  EXPECT_EQ(parse_speech_mode("timeline"), SpeechMode::timeline);
  EXPECT_EQ(parse_speech_mode("none"), SpeechMode::none);
  EXPECT_FALSE(parse_speech_mode("Full").has_value());
  EXPECT_FALSE(parse_speech_mode("").has_value());
}

TEST(SpeechMessage, RejectsWhatItCannotRead) {
  EXPECT_FALSE(parse_speech("").has_value());
  EXPECT_FALSE(parse_speech("P\x01\x02").has_value()) << "truncated header";
  avatar::Timeline t;
  t.sample_rate_hz = 24000;
  t.entries = {{Viseme::sil, 0}, {Viseme::O, 10}};
  std::string bytes = speech(1, 1, 10, t, "OggS")->bytes;
  std::string old_version = bytes;
  old_version[2] = 1;
  EXPECT_FALSE(parse_speech(old_version).has_value());
  std::string bad_viseme = bytes;
  bad_viseme[kSpeechFixedHeaderBytes] = static_cast<char>(200);
  EXPECT_FALSE(parse_speech(bad_viseme).has_value());
  EXPECT_FALSE(parse_speech(bytes.substr(0, kSpeechFixedHeaderBytes + 3)).has_value()) << "entries cut short";
}

}  // namespace
}  // namespace parley::session::wire
