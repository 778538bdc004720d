// SPDX-License-Identifier: GPL-3.0-or-later
// The whole pipeline with the real engines on a real recording.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <map>

#include "app/engine_set.h"
#include "audio/wav_io.h"
#include "pipeline/text.h"

namespace parley::pipeline {
namespace {

const char* kSpeech =
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.wav";

class Events final : public PipelineListener {
 public:
  std::vector<std::pair<uint64_t, uint32_t>> partials;
  std::vector<Utterance> finals;
  std::vector<TranslationResult> translations;
  std::map<std::string, int64_t> speech_samples;  // all utterances
  std::map<std::string, int64_t> current_samples;  // the utterance being spoken
  std::vector<TranslationResult> speech_ends;
  std::vector<std::string> errors;
  void on_partial(uint64_t id, uint32_t rev, const std::string&) override { partials.emplace_back(id, rev); }
  void on_final(const Utterance& u) override { finals.push_back(u); }
  void on_translation(const Utterance&, const TranslationResult& t) override { translations.push_back(t); }
  void on_speech_chunk(const Utterance&, const std::string& lang, const engines::tts::SpeechChunk& c,
                       int64_t first) override {
    EXPECT_EQ(first, current_samples[lang]) << "chunks must be contiguous";
    current_samples[lang] += static_cast<int64_t>(c.audio.size());
    speech_samples[lang] += static_cast<int64_t>(c.audio.size());
  }
  void on_speech_end(const Utterance&, const TranslationResult& t, const engines::tts::Speech& s) override {
    EXPECT_EQ(static_cast<int64_t>(s.audio.samples.size()), current_samples[t.language]);
    current_samples[t.language] = 0;
    speech_ends.push_back(t);
  }
  void on_error(const core::Status& s) override { errors.push_back(s.message()); }
};

TEST(Pipeline, RecordingBecomesPartialsFinalTranslationsAndSpeech) {
  auto engines = app::load_engines({});
  ASSERT_TRUE(engines.is_ok()) << engines.status().message();
  Events ev;
  PipelineConfig pc;
  pc.targets = {"es", "fr"};
  auto pipe = SpeakerPipeline::create(*engines, pc, ev);
  ASSERT_TRUE(pipe.is_ok()) << pipe.status().message();
  auto pcm = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(pcm.is_ok());
  std::vector<float> audio = pcm->samples;
  audio.resize(audio.size() + 16000, 0.0F);  // a second of silence closes the utterance
  for (size_t off = 0; off < audio.size(); off += 320) {
    ASSERT_TRUE((*pipe)->push_audio(std::span(audio).subspan(off, std::min<size_t>(320, audio.size() - off))).is_ok());
  }
  (*pipe)->finish();

  EXPECT_TRUE(ev.errors.empty()) << ev.errors.front();
  ASSERT_FALSE(ev.finals.empty());
  const Utterance& u = ev.finals.front();
  EXPECT_NE(u.text.find("amiable woman"), std::string::npos) << u.text;
  EXPECT_TRUE(std::isupper(static_cast<unsigned char>(u.text[0])));
  EXPECT_EQ(u.text.back(), '.');
  ASSERT_GE(ev.partials.size(), 3U);
  for (size_t i = 1; i < ev.partials.size(); ++i) {
    if (ev.partials[i].first == ev.partials[i - 1].first) {
      EXPECT_EQ(ev.partials[i].second, ev.partials[i - 1].second + 1) << "revisions count up";
    }
  }
  // Every stage stamped, in order.
  EXPECT_GT(u.times.first_audio_us, 0);
  EXPECT_LE(u.times.first_audio_us, u.times.last_audio_us);
  EXPECT_LE(u.times.last_audio_us, u.times.vad_end_us);
  EXPECT_LE(u.times.vad_end_us, u.times.stt_final_us);
  EXPECT_GT(u.times.stt_ms, 0);
  EXPECT_LT(u.start_ms, u.end_ms);

  ASSERT_EQ(ev.speech_ends.size(), 2U * ev.finals.size());
  for (const auto& t : ev.speech_ends) {
    EXPECT_FALSE(t.text.empty());
    EXPECT_GE(t.times.mt_done_us, u.times.stt_final_us);
    EXPECT_GE(t.times.tts_first_audio_us, t.times.mt_done_us);
    EXPECT_GE(t.times.tts_done_us, t.times.tts_first_audio_us);
    EXPECT_GT(ev.speech_samples[t.language], 16000) << t.language;
  }
  // Captions arrive as each language's translation is ready, in any order.
  std::map<std::string, std::string> routes;
  for (const auto& t : ev.translations) routes[t.language] = t.route;
  EXPECT_EQ(routes["es"], "en→es");
  EXPECT_EQ(routes["fr"], "en→es→fr");
}

TEST(Pipeline, UnknownTargetFailsClearly) {
  auto engines = app::load_engines({});
  ASSERT_TRUE(engines.is_ok());
  Events ev;
  PipelineConfig pc;
  pc.targets = {"ja"};
  auto pipe = SpeakerPipeline::create(*engines, pc, ev);
  ASSERT_FALSE(pipe.is_ok());
  EXPECT_EQ(pipe.status().code(), core::Code::not_found);
}

TEST(Text, MakesSentences) {
  EXPECT_EQ(to_sentence("he said i am here", "en"), "He said I am here.");
  EXPECT_EQ(to_sentence("  i'm fine  ", "en"), "I'm fine.");
  EXPECT_EQ(to_sentence("is it", "en"), "Is it.");
  EXPECT_EQ(to_sentence("", "en"), "");
  EXPECT_EQ(to_sentence("done.", "en"), "Done.");
}

}  // namespace
}  // namespace parley::pipeline
