// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>

#include "engines/tts/espeak/espeak_tts.h"

namespace parley::engines::tts {
namespace {

std::shared_ptr<const Model> espeak() {
  static auto m = make_espeak_tts();
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

TEST(Espeak, HasVoicesForTheTranslationTargets) {
  for (const char* lang : {"en", "es", "fr", "pt", "it", "ca"}) {
    EXPECT_TRUE(espeak()->open_stream(lang).is_ok()) << lang;
  }
  auto s = espeak()->open_stream("xx");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), core::Code::not_found);
}

TEST(Espeak, EventsAreOrderedAndInsideTheAudio) {
  for (const char* lang : {"en", "es", "fr"}) {
    auto s = espeak()->open_stream(lang);
    ASSERT_TRUE(s.is_ok());
    auto speech = synthesize_all(**s, "Bonjour, hello, hola. This is a test of the voice.");
    ASSERT_TRUE(speech.is_ok()) << speech.status().message();
    const auto n = static_cast<int64_t>(speech->audio.samples.size());
    EXPECT_GT(speech->audio.duration_s(), 1.0) << lang;
    EXPECT_GT(speech->audio.sample_rate_hz, 8000);
    ASSERT_GT(speech->phonemes.size(), 10U) << lang;
    ASSERT_GE(speech->words.size(), 8U) << lang;
    int64_t prev = 0;
    for (const auto& p : speech->phonemes) {
      EXPECT_GE(p.sample, prev) << lang << " phoneme " << p.symbol;
      EXPECT_LT(p.sample, n) << lang << " phoneme " << p.symbol;
      prev = p.sample;
    }
    prev = 0;
    for (const auto& w : speech->words) {
      EXPECT_GE(w.sample, prev);
      EXPECT_LT(w.sample, n);
      prev = w.sample;
    }
    // The audio is not silent.
    double energy = 0;
    for (float x : speech->audio.samples) energy += x * x;
    EXPECT_GT(std::sqrt(energy / n), 0.01) << lang;
  }
}

TEST(Espeak, EmptyAndControlCharactersAreHarmless) {
  auto s = espeak()->open_stream("en");
  ASSERT_TRUE(s.is_ok());
  auto empty = synthesize_all(**s, "   ");
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->audio.samples.empty());
  auto ctl = synthesize_all(**s, std::string("one\0two\x07three", 13));
  ASSERT_TRUE(ctl.is_ok());
  EXPECT_GT(ctl->audio.samples.size(), 1000U);
}

}  // namespace
}  // namespace parley::engines::tts
