// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>

#include "audio/wav_io.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"
#include "transcript/wer.h"

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

// Decodes the samples as one utterance of `stream`.
std::string decode(Stream& stream, const std::vector<float>& samples) {
  EXPECT_TRUE(stream.begin_utterance().is_ok());
  for (size_t off = 0; off < samples.size(); off += 3200) {
    EXPECT_TRUE(stream.accept(std::span(samples).subspan(off, std::min<size_t>(3200, samples.size() - off))).is_ok());
  }
  auto f = stream.end_utterance();
  EXPECT_TRUE(f.is_ok());
  return f.is_ok() ? f->text : std::string();
}
std::string decode(Stream& stream, const std::string& path) {
  auto pcm = audio::read_audio_file_16k(path);
  EXPECT_TRUE(pcm.is_ok());
  return decode(stream, pcm->samples);
}

// Two speakers share one pooled decoder, utterance by utterance: each keeps
// its own warm channel adaptation (live CMN), so the second speaker in
// between changes nothing in what the first one's next utterance decodes to.
TEST(Pocketsphinx, APooledDecoderCarriesEachSpeakersAdaptation) {
  const std::string dir = "/usr/share/pocketsphinx/test/data/";
  const std::string a1 = dir + "librivox/sense_and_sensibility_01_austen_64kb-0930.wav";
  const std::string a2 = dir + "librivox/sense_and_sensibility_01_austen_64kb-0880.wav";
  // The other "speaker" is as unlike the first as a channel gets: loud,
  // low-pitched hum and hiss, which drags the cepstral means far away.
  std::vector<float> b(16000 * 4);
  for (size_t i = 0; i < b.size(); ++i) {
    b[i] = 0.6F * std::sin(2.0F * 3.14159F * 90.0F * static_cast<float>(i) / 16000.0F) +
           0.2F * static_cast<float>((i * 7919) % 2001) / 1000.0F - 0.2F;
  }
  std::string alone;
  {
    auto model = make_pocketsphinx_stt();
    ASSERT_TRUE(model.is_ok());
    auto speaker = (*model)->open_stream("en");
    decode(**speaker, a1);
    alone = decode(**speaker, a2);
  }
  ASSERT_FALSE(alone.empty());
  PocketsphinxConfig one;
  one.max_decoders = 1;
  auto model = make_pocketsphinx_stt(one);
  ASSERT_TRUE(model.is_ok());
  auto first = (*model)->open_stream("en");
  auto second = (*model)->open_stream("en");
  decode(**first, a1);
  decode(**second, b);
  EXPECT_EQ(decode(**first, a2), alone);
  // While one speaker is mid-utterance, the only decoder is not lent out.
  ASSERT_TRUE((*first)->begin_utterance().is_ok());
  PocketsphinxConfig impatient = one;
  impatient.borrow_timeout_ms = 100;
  auto model2 = make_pocketsphinx_stt(impatient);
  auto x = (*model2)->open_stream("en");
  auto y = (*model2)->open_stream("en");
  ASSERT_TRUE((*x)->begin_utterance().is_ok());
  auto refused = (*y)->begin_utterance();
  EXPECT_EQ(refused.code(), core::Code::resource_exhausted);
  EXPECT_NE(refused.message().find("--stt-decoders"), std::string::npos);
  ASSERT_TRUE((*x)->end_utterance().is_ok());
  EXPECT_TRUE((*y)->begin_utterance().is_ok()) << "free again once the utterance ended";
}

// Word times count from the start of the utterance's own audio, also when
// the pooled decoder has served other utterances before (pocketsphinx counts
// segment times per stream, not per utterance).
TEST(Pocketsphinx, WordTimesLieInsideTheirUtteranceOnAReusedDecoder) {
  PocketsphinxConfig one;
  one.max_decoders = 1;
  auto model = make_pocketsphinx_stt(one);
  ASSERT_TRUE(model.is_ok());
  auto pcm = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(pcm.is_ok());
  const auto duration_ms = static_cast<int64_t>(pcm->duration_s() * 1000);
  auto stream = (*model)->open_stream("en");
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE((*stream)->begin_utterance().is_ok());
    ASSERT_TRUE((*stream)->accept(pcm->samples).is_ok());
    auto f = (*stream)->end_utterance();
    ASSERT_TRUE(f.is_ok());
    ASSERT_FALSE(f->words.empty()) << "round " << round;
    EXPECT_LT(f->words.front().start_ms, 1000) << "round " << round;
    EXPECT_LE(f->words.back().end_ms, duration_ms + 20) << "round " << round;
  }
}

// A new speaker's first utterances are decoded twice, the second time
// normalised by their own cepstral means: on the LibriVox recordings, each
// heard as a new speaker, that takes out a large share of the errors (about
// 39 % WER without it, 21-27 % with it; docs/benchmarks.md). With a decoder
// to spare, an utterance past 3 s gets that pass alongside the first (so its
// final does not wait for it); with none, after its end. Both must help.
TEST(Pocketsphinx, ANewSpeakersFirstWordsAreDecodedWithTheirOwnMeans) {
  const std::string dir = "/usr/share/pocketsphinx/test/data/librivox/";
  std::ifstream in(dir + "transcription");
  ASSERT_TRUE(in) << "install pocketsphinx-testdata";
  std::vector<std::pair<std::string, std::string>> recs;  // path, reference
  const std::regex line_re(R"(<s>(.*)</s>\s*\((.*)\))");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, line_re)) recs.emplace_back(dir + m[2].str() + ".wav", m[1].str());
  }
  ASSERT_EQ(recs.size(), 5U);
  auto errors_with = [&](int second_pass_ms, size_t decoders = 8) {
    PocketsphinxConfig c;
    c.cold_second_pass_ms = second_pass_ms;
    c.max_decoders = decoders;
    auto model = make_pocketsphinx_stt(c);
    EXPECT_TRUE(model.is_ok());
    transcript::WerCounts total;
    for (const auto& [path, ref] : recs) {
      auto stream = (*model)->open_stream("en");  // a new speaker each time
      total += transcript::word_errors(transcript::normalise_words(ref),
                                       transcript::normalise_words(decode(**stream, path)));
    }
    return total;
  };
  const auto once = errors_with(0);
  const auto alongside = errors_with(4000);
  const auto after = errors_with(4000, 1);
  std::printf("LibriVox, each file a new speaker: WER %.1f %% decoded once, %.1f %% with the second pass "
              "alongside, %.1f %% after the end\n",
              100 * once.wer(), 100 * alongside.wer(), 100 * after.wer());
  EXPECT_LT(alongside.wer() + 0.05, once.wer());
  EXPECT_LT(after.wer() + 0.05, once.wer());
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
