// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

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

// A session's names (tts::Lexicon) are said the way their own language says
// them, inside another language's speech; the words' places in the text
// stay those of the text as given.
TEST(Espeak, LexiconNamesAreSaidInTheirOwnLanguagesVoice) {
  auto model = make_espeak_tts();
  ASSERT_TRUE(model.is_ok());
  auto es = (*model)->open_stream("es");
  ASSERT_TRUE(es.is_ok());
  const std::string text = "El señor Quillfeather llegó <tarde> & habló.";
  auto phonemes_of = [](const Speech& s) {
    std::string all;
    for (const auto& p : s.phonemes) all += p.symbol + " ";
    return all;
  };
  auto plain = synthesize_all(**es, text);
  ASSERT_TRUE(plain.is_ok());
  auto lexicon = std::make_shared<Lexicon>();
  lexicon->entries.push_back({"Quillfeather", "en"});
  (*es)->use_lexicon(lexicon);
  auto named = synthesize_all(**es, text);
  ASSERT_TRUE(named.is_ok());
  // English short i (ɪ), which Spanish rules never give.
  EXPECT_EQ(phonemes_of(*plain).find("ɪ"), std::string::npos) << phonemes_of(*plain);
  EXPECT_NE(phonemes_of(*named).find("ɪ"), std::string::npos) << phonemes_of(*named) << " / " << phonemes_of(*plain);
  // Word places count characters of the text as given, not of the markup.
  ASSERT_EQ(plain->words.size(), named->words.size());
  for (size_t i = 0; i < plain->words.size(); ++i) {
    EXPECT_EQ(plain->words[i].text_offset, named->words[i].text_offset) << "word " << i;
  }
  // The same name in an English voice: nothing to switch.
  auto en = (*model)->open_stream("en");
  ASSERT_TRUE(en.is_ok());
  (*en)->use_lexicon(lexicon);
  EXPECT_TRUE(synthesize_all(**en, "Mister Quillfeather & co.").is_ok());
  (*es)->use_lexicon(nullptr);
  auto again = synthesize_all(**es, text);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(phonemes_of(*again), phonemes_of(*plain));
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
