// SPDX-License-Identifier: GPL-3.0-or-later
#include "avatar/viseme.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engines/tts/espeak/espeak_tts.h"

namespace parley::avatar {
namespace {

using V = Viseme;
using Vs = std::vector<Viseme>;

TEST(Visemes, English) {
  EXPECT_EQ(visemes_of("p"), Vs{V::PP});
  EXPECT_EQ(visemes_of("b"), Vs{V::PP});
  EXPECT_EQ(visemes_of("m"), Vs{V::PP});
  EXPECT_EQ(visemes_of("f"), Vs{V::FF});
  EXPECT_EQ(visemes_of("θ"), Vs{V::TH});
  EXPECT_EQ(visemes_of("ð"), Vs{V::TH});
  EXPECT_EQ(visemes_of("tʃ"), Vs{V::CH}) << "an affricate is one shape";
  EXPECT_EQ(visemes_of("dʒ"), Vs{V::CH});
  EXPECT_EQ(visemes_of("ɹ"), Vs{V::RR});
  EXPECT_EQ(visemes_of("ɡ"), Vs{V::kk});
  EXPECT_EQ(visemes_of("ˈiː"), Vs{V::I}) << "stress and length marks have no shape";
  EXPECT_EQ(visemes_of("ə"), Vs{V::E});
  EXPECT_EQ(visemes_of("aʊ"), (Vs{V::aa, V::U})) << "a diphthong moves from open to round";
  EXPECT_EQ(visemes_of("eɪ"), (Vs{V::E, V::I}));
  EXPECT_EQ(visemes_of("əʊ"), (Vs{V::E, V::U}));
  EXPECT_EQ(visemes_of("w"), Vs{V::U});
}

TEST(Visemes, Spanish) {
  EXPECT_EQ(visemes_of("ɾ"), Vs{V::RR}) << "pero";
  EXPECT_EQ(visemes_of("r"), Vs{V::RR}) << "perro";
  EXPECT_EQ(visemes_of("β"), Vs{V::PP}) << "lobo: soft b between vowels";
  EXPECT_EQ(visemes_of("ð"), Vs{V::TH}) << "nada";
  EXPECT_EQ(visemes_of("ɲ"), Vs{V::nn}) << "año";
  EXPECT_EQ(visemes_of("x"), Vs{V::kk}) << "jamón";
  EXPECT_EQ(visemes_of("ʎ"), Vs{V::nn}) << "calle";
  EXPECT_EQ(visemes_of("a"), Vs{V::aa});
  EXPECT_EQ(visemes_of("o"), Vs{V::O});
  EXPECT_EQ(visemes_of("u"), Vs{V::U});
}

TEST(Visemes, French) {
  EXPECT_EQ(visemes_of("ʁ"), Vs{V::RR}) << "rouge";
  EXPECT_EQ(visemes_of("ʒ"), Vs{V::CH}) << "je";
  EXPECT_EQ(visemes_of("y"), Vs{V::U}) << "tu: rounded front vowel";
  EXPECT_EQ(visemes_of("ɔ̃"), Vs{V::O}) << "bon: the nasal diacritic is ignored";
  EXPECT_EQ(visemes_of("ɑ̃"), Vs{V::aa}) << "blanc";
  EXPECT_EQ(visemes_of("œ̃"), Vs{V::O}) << "un";
  EXPECT_EQ(visemes_of("ə-"), Vs{V::E}) << "espeak's syllable marks are ignored";
  EXPECT_EQ(visemes_of("ɥ"), Vs{V::U}) << "huit";
  EXPECT_EQ(visemes_of("ø"), Vs{V::O}) << "deux";
}

TEST(Visemes, MarksAloneHaveNoShapeAndUnknownLettersAreCounted) {
  EXPECT_TRUE(visemes_of("ˈ").empty());
  EXPECT_TRUE(visemes_of("").empty());
  int unknown = 0;
  EXPECT_EQ(visemes_of("☃", &unknown), Vs{V::nn});
  EXPECT_EQ(unknown, 1);
  unknown = 0;
  visemes_of("\xff\xfe", &unknown);  // not UTF-8: skipped, no crash
  EXPECT_EQ(unknown, 0);
  EXPECT_EQ(visemes_of("ll"), Vs{V::nn}) << "a doubled letter is one held shape";
}

TEST(Visemes, NamesAreTheDocumentedSet) {
  std::set<std::string_view> names;
  for (int i = 0; i < kVisemeCount; ++i) names.insert(viseme_name(static_cast<Viseme>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kVisemeCount));
  EXPECT_EQ(viseme_name(V::sil), "sil");
  EXPECT_EQ(viseme_name(V::U), "U");
}

TEST(Timeline, PhonemesHoldUntilTheNextAndSilenceRests) {
  const int rate = 1000;  // 1 sample per ms keeps the arithmetic readable
  std::vector<float> audio(1000, 0.2F);
  for (size_t i = 400; i < 600; ++i) audio[i] = 0.0F;  // a 200 ms pause
  std::vector<engines::tts::PhonemeEvent> ph = {{"m", 0}, {"a", 100}, {"aʊ", 300}, {"s", 600}, {"i", 800}};
  auto t = build_timeline(ph, audio, rate);
  EXPECT_EQ(t.at(-1), V::sil);
  EXPECT_EQ(t.at(50), V::PP);
  EXPECT_EQ(t.at(150), V::aa);
  EXPECT_EQ(t.at(320), V::aa) << "first half of the diphthong";
  EXPECT_EQ(t.at(380), V::U) << "second half: the pause after it is not part of it";
  EXPECT_EQ(t.at(500), V::sil) << "the mouth rests in the pause";
  EXPECT_EQ(t.at(700), V::SS);
  EXPECT_EQ(t.at(900), V::I);
  EXPECT_EQ(t.at(1000), V::sil) << "and after the audio";
  ASSERT_FALSE(t.entries.empty());
  EXPECT_EQ(t.entries.front().sample, 0);
  EXPECT_EQ(t.entries.back().viseme, V::sil);
  for (size_t i = 1; i < t.entries.size(); ++i) {
    EXPECT_GT(t.entries[i].sample, t.entries[i - 1].sample);
    EXPECT_NE(t.entries[i].viseme, t.entries[i - 1].viseme) << "run-length encoded";
  }
}

TEST(Timeline, ShortGapsDoNotCloseTheMouth) {
  std::vector<float> audio(1000, 0.2F);
  for (size_t i = 500; i < 530; ++i) audio[i] = 0.0F;  // 30 ms: a stop closure, not a pause
  auto t = build_timeline(std::vector<engines::tts::PhonemeEvent>{{"a", 0}}, audio, 1000);
  EXPECT_EQ(t.at(515), V::aa);
}

TEST(Timeline, EmptyInputIsRest) {
  auto t = build_timeline({}, {}, 22050);
  EXPECT_EQ(t.at(0), V::sil);
  ASSERT_EQ(t.entries.size(), 1U);
}

const engines::tts::Model& espeak() {
  static auto m = engines::tts::make_espeak_tts();
  return **m;
}

TEST(Timeline, RealSpeechMovesTheMouth) {
  for (const auto& [lang, text] : std::vector<std::pair<std::string, std::string>>{
           {"en", "The quick brown fox jumps over the lazy dog."},
           {"es", "Buenos días, ¿cómo estás?"},
           {"fr", "Bonjour, je voudrais un croissant."}}) {
    auto stream = espeak().open_stream(lang);
    ASSERT_TRUE(stream.is_ok()) << lang;
    auto speech = engines::tts::synthesize_all(**stream, text);
    ASSERT_TRUE(speech.is_ok()) << lang;
    auto t = build_timeline(speech->phonemes, speech->audio.samples, speech->audio.sample_rate_hz);
    std::set<V> shapes;
    for (const auto& e : t.entries) shapes.insert(e.viseme);
    EXPECT_GE(shapes.size(), 6U) << lang << ": many different shapes";
    EXPECT_LE(t.entries.back().sample, static_cast<int64_t>(speech->audio.samples.size()));
    EXPECT_EQ(t.entries.back().viseme, V::sil);
    EXPECT_GE(t.entries.size(), 10U) << lang;
  }
}

// Every symbol espeak-ng uses, in every voice it has, maps to a shape: the
// table covers every language parley can speak (and more).
TEST(Visemes, EverySymbolOfEveryVoiceIsKnown) {
  const std::string text = "Sphinx of black quartz, judge my vow. The five boxing wizards jump quickly; "
                           "zebras whistle, yachts glow, rhythm and thought.";
  size_t voices = 0;
  for (const auto& voice : espeak().voices()) {
    auto stream = espeak().open_stream(voice.language);
    if (!stream.is_ok()) continue;
    auto speech = engines::tts::synthesize_all(**stream, text);
    ASSERT_TRUE(speech.is_ok()) << voice.language << ": " << speech.status().message();
    ++voices;
    for (const auto& p : speech->phonemes) {
      int unknown = 0;
      visemes_of(p.symbol, &unknown);
      EXPECT_EQ(unknown, 0) << voice.language << ": no shape for [" << p.symbol << "]";
    }
  }
  EXPECT_GE(voices, 20U);
}

}  // namespace
}  // namespace parley::avatar
