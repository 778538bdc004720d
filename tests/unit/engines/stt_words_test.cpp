// SPDX-License-Identifier: GPL-3.0-or-later
// The embedded recogniser learning a session's words (Model::adapt):
// pronunciations for words its dictionary lacks (espeak_phones.h) and the
// interpolated language model (session_words.h). The made-up names are
// spoken by espeak-ng: synthetic speech, fine for this plumbing; accuracy on
// real recordings is measured by tools/eval/talk_words.py.
#include <gtest/gtest.h>

#include "audio/resampler.h"
#include "audio/wav_io.h"
#include "engines/stt/pocketsphinx/espeak_phones.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"
#include "engines/tts/espeak/espeak_tts.h"
#include "engines/tts/tts.h"

namespace parley::engines::stt {
namespace {

std::string decode(Stream& s, const std::vector<float>& samples) {
  EXPECT_TRUE(s.begin_utterance().is_ok());
  for (size_t off = 0; off < samples.size(); off += 1600) {
    EXPECT_TRUE(s.accept(std::span(samples).subspan(off, std::min<size_t>(1600, samples.size() - off))).is_ok());
  }
  auto h = s.end_utterance();
  EXPECT_TRUE(h.is_ok());
  return h ? h->text : std::string();
}

std::vector<float> spoken(const std::string& text) {
  auto tts = tts::make_espeak_tts();
  EXPECT_TRUE(tts.is_ok());
  auto voice = (*tts)->open_stream("en");
  EXPECT_TRUE(voice.is_ok());
  auto speech = tts::synthesize_all(**voice, text);
  EXPECT_TRUE(speech.is_ok());
  auto pcm = audio::resample(speech->audio, audio::kPipelineRateHz);
  EXPECT_TRUE(pcm.is_ok());
  std::vector<float> out(8000, 0.0F);  // half a second of silence around it
  out.insert(out.end(), pcm->samples.begin(), pcm->samples.end());
  out.insert(out.end(), 8000, 0.0F);
  return out;
}

TEST(EspeakPhones, IpaMapsToTheDictionarysPhones) {
  EXPECT_EQ(ipa_to_cmu("h|ə|l|ˈoʊ"), (std::vector<std::string>{"HH", "AH", "L", "OW"}));
  EXPECT_EQ(ipa_to_cmu("tʃ|ˈɜː|tʃ"), (std::vector<std::string>{"CH", "ER", "CH"}));
  EXPECT_EQ(ipa_to_cmu("b|ˈʌ|ʔ|n\xCC\xA9"), (std::vector<std::string>{"B", "AH", "T", "AH", "N"}));
  EXPECT_EQ(ipa_to_cmu("k|ˈɑːɹ"), (std::vector<std::string>{"K", "AA", "R"}));
  EXPECT_TRUE(ipa_to_cmu("h|ə|☃").empty()) << "a sign that is no phone: no pronunciation rather than a wrong one";
}

TEST(EspeakPhones, WordsGetPronunciationsAndFlapsGetBoth) {
  auto hello = cmu_pronunciations("hello");
  ASSERT_TRUE(hello.is_ok()) << hello.status().message();
  EXPECT_EQ((*hello)[0], "HH AH L OW");
  auto better = cmu_pronunciations("better");
  ASSERT_TRUE(better.is_ok());
  ASSERT_EQ(better->size(), 2U);
  EXPECT_EQ((*better)[0], "B EH T ER");
  EXPECT_EQ((*better)[1], "B EH D ER");
  auto name = cmu_pronunciations("quillfeather");
  ASSERT_TRUE(name.is_ok());
  EXPECT_FALSE((*name)[0].empty());
}

TEST(PocketsphinxWords, NamesTheDictionaryLacksAreLearntFromTheVocabulary) {
  auto model = make_pocketsphinx_stt();
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  const auto audio = spoken("Please welcome Zorbulon Quillfeather.");

  auto plain = (*model)->open_stream("en");
  ASSERT_TRUE(plain.is_ok());
  const std::string without = decode(**plain, audio);
  EXPECT_EQ(without.find("quillfeather"), std::string::npos) << "not a word the dictionary has: " << without;

  auto adapted = (*model)->adapt("en", {"Speakers today: Zorbulon Quillfeather, Marisol Vantreek.\nWelcome!", ""});
  ASSERT_TRUE(adapted.is_ok()) << adapted.status().message();
  ASSERT_NE(*adapted, nullptr);
  const auto st = (*adapted)->stats();
  EXPECT_GE(st.n_new_words, 3U) << "zorbulon, quillfeather, vantreek";
  EXPECT_EQ(st.n_unpronounced, 0U);
  EXPECT_EQ(st.n_decoders, 1U);
  auto stream = (*model)->open_stream("en");
  ASSERT_TRUE(stream.is_ok());
  (*stream)->use(*adapted);
  const std::string with = decode(**stream, audio);
  EXPECT_NE(with.find("quillfeather"), std::string::npos) << with;

  // Back to the generic model: no session's words.
  (*stream)->use(nullptr);
  EXPECT_EQ(decode(**stream, audio).find("quillfeather"), std::string::npos);
  // Another engine's words (or none at all) are ignored, never a crash.
  EXPECT_EQ(*(*model)->adapt("en", {}), nullptr) << "nothing to learn";
  EXPECT_FALSE((*model)->adapt("fr", {"bonjour", ""}).is_ok());
}

TEST(PocketsphinxWords, RealSpeechDecodesWithNewWordsInTheModel) {
  // New words in the session's model are scored in every search, including
  // the second pass over a new speaker's first words (a crash once: the
  // generic model's compressed tables were given words they cannot hold).
  auto model = make_pocketsphinx_stt();
  ASSERT_TRUE(model.is_ok());
  auto adapted = (*model)->adapt("en", {"Zorbulon Quillfeather and Marisol Vantreek consider the leisure of Dashwood.",
                                        "He might even have been made amiable himself."});
  ASSERT_TRUE(adapted.is_ok()) << adapted.status().message();
  auto stream = (*model)->open_stream("en");
  ASSERT_TRUE(stream.is_ok());
  (*stream)->use(*adapted);
  auto pcm = audio::read_audio_file_16k(
      "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0930.wav");
  ASSERT_TRUE(pcm.is_ok());
  for (int i = 0; i < 2; ++i) {
    const std::string text = decode(**stream, pcm->samples);
    EXPECT_EQ(text.rfind("he might even have been made amiable", 0), 0U) << text;
  }
}

}  // namespace
}  // namespace parley::engines::stt
