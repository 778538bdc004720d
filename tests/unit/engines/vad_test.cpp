// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "audio/wav_io.h"
#include "engines/vad/webrtc/webrtc_vad.h"

namespace parley::engines::vad {
namespace {

const char* kSpeech =
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav";

double voiced_fraction(Stream& s, const std::vector<float>& samples) {
  int voiced = 0, total = 0;
  for (size_t off = 0; off + 160 <= samples.size(); off += 160) {
    auto r = s.is_speech(std::span(samples).subspan(off, 160));
    EXPECT_TRUE(r.is_ok());
    voiced += (r.is_ok() && *r) ? 1 : 0;
    ++total;
  }
  return total ? static_cast<double>(voiced) / total : 0;
}

TEST(WebrtcVad, SilenceIsNotSpeechAndRecordedSpeechIs) {
  auto model = make_webrtc_vad();
  auto s = model->open_stream();
  ASSERT_TRUE(s.is_ok());
  std::vector<float> silence(16000 * 2, 0.0F);
  EXPECT_LT(voiced_fraction(**s, silence), 0.01);
  auto speech = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(speech.is_ok()) << speech.status().message();
  EXPECT_GT(voiced_fraction(**s, speech->samples), 0.4);
}

TEST(WebrtcVad, QuietHissIsMostlyNotSpeech) {
  auto s = make_webrtc_vad()->open_stream();
  ASSERT_TRUE(s.is_ok());
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0F, 0.003F);
  std::vector<float> hiss(16000 * 3);
  for (auto& x : hiss) x = noise(rng);
  EXPECT_LT(voiced_fraction(**s, hiss), 0.2);
}

TEST(WebrtcVad, WrongFrameSizeIsAnErrorNotACrash) {
  auto s = make_webrtc_vad()->open_stream();
  ASSERT_TRUE(s.is_ok());
  std::vector<float> odd(123, 0.1F);
  auto r = (*s)->is_speech(odd);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::invalid_argument);
  std::vector<float> ok(160, 0.0F);
  EXPECT_TRUE((*s)->is_speech(ok).is_ok());  // still usable
}

}  // namespace
}  // namespace parley::engines::vad
