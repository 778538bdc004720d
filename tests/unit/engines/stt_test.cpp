// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "audio/wav_io.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"

namespace parley::engines::stt {
namespace {

const char* kSpeech =
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.wav";

TEST(Pocketsphinx, StreamsPartialsThenAFinalWithWordTimings) {
  auto model = make_pocketsphinx_stt();
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto stream = (*model)->open_stream("en");
  ASSERT_TRUE(stream.is_ok()) << stream.status().message();
  auto pcm = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(pcm.is_ok());
  const auto duration_ms = static_cast<int64_t>(pcm->duration_s() * 1000);

  ASSERT_TRUE((*stream)->begin_utterance().is_ok());
  std::vector<std::string> partials;
  const size_t block = 3200;  // 200 ms
  for (size_t off = 0; off < pcm->samples.size(); off += block) {
    size_t n = std::min(block, pcm->samples.size() - off);
    ASSERT_TRUE((*stream)->accept(std::span(pcm->samples).subspan(off, n)).is_ok());
    auto p = (*stream)->partial();
    ASSERT_TRUE(p.is_ok());
    if (!p->text.empty() && (partials.empty() || partials.back() != p->text)) partials.push_back(p->text);
  }
  auto final = (*stream)->end_utterance();
  ASSERT_TRUE(final.is_ok());
  EXPECT_GE(partials.size(), 2U) << "partial hypotheses should evolve mid-utterance";
  // A cold decoder on a 3-second clip: the start is reliable, the end less so.
  EXPECT_NE(final->text.find("might even have been"), std::string::npos) << final->text;
  ASSERT_FALSE(final->words.empty());
  int64_t prev_end = 0;
  for (const auto& w : final->words) {
    EXPECT_LE(prev_end, w.start_ms) << w.text;
    EXPECT_LT(w.start_ms, w.end_ms) << w.text;
    EXPECT_LE(w.end_ms, duration_ms + 20) << w.text;
    prev_end = w.end_ms;
  }
}

TEST(Pocketsphinx, DecoderSurvivesManyUtterancesAndMisuse) {
  auto model = make_pocketsphinx_stt();
  ASSERT_TRUE(model.is_ok());
  auto stream = (*model)->open_stream("en");
  ASSERT_TRUE(stream.is_ok());
  std::vector<float> silence(8000, 0.0F);
  EXPECT_FALSE((*stream)->accept(silence).is_ok()) << "audio outside an utterance is refused";
  EXPECT_FALSE((*stream)->end_utterance().is_ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*stream)->begin_utterance().is_ok());
    EXPECT_FALSE((*stream)->begin_utterance().is_ok()) << "no nested utterances";
    ASSERT_TRUE((*stream)->accept(silence).is_ok());
    auto f = (*stream)->end_utterance();
    ASSERT_TRUE(f.is_ok());
    EXPECT_TRUE(f->text.empty()) << "silence should recognise as nothing, got: " << f->text;
  }
}

TEST(Pocketsphinx, UnknownLanguageIsNotFound) {
  auto model = make_pocketsphinx_stt();
  ASSERT_TRUE(model.is_ok());
  auto s = (*model)->open_stream("de");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), core::Code::not_found);
}

TEST(Pocketsphinx, MissingModelNamesThePackage) {
  PocketsphinxConfig c;
  c.model_dir = "/nonexistent/model";
  auto m = make_pocketsphinx_stt(c);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("pocketsphinx-en-us"), std::string::npos);
}

}  // namespace
}  // namespace parley::engines::stt
