// SPDX-License-Identifier: GPL-3.0-or-later
// parley's own implementation of Silero VAD's network against ONNX Runtime's
// output for the same model and recording (tests/data/silero_reference.txt,
// written by tools/eval/silero_reference.mjs), and its decisions on real
// speech, real noise and silence.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "audio/wav_io.h"
#include "engines/vad/silero/onnx_constants.h"
#include "engines/vad/silero/silero_vad.h"

namespace parley::engines::vad {
namespace {

const char* kSpeech = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav";
const char* kStreet = "/usr/share/games/btanks/data/sounds/ambient/city.ogg";

class SileroVad : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = make_silero_vad();
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    model_ = *m;
  }

  double voiced_fraction(const std::vector<float>& samples) {
    auto s = model_->open_stream();
    EXPECT_TRUE(s.is_ok());
    if (!s) return 0;
    int voiced = 0, total = 0;
    for (size_t off = 0; off + 160 <= samples.size(); off += 160) {
      auto r = (*s)->is_speech(std::span(samples).subspan(off, 160));
      EXPECT_TRUE(r.is_ok());
      voiced += r.is_ok() && *r ? 1 : 0;
      ++total;
    }
    return total ? static_cast<double>(voiced) / total : 0;
  }

  std::shared_ptr<const Model> model_;
};

TEST_F(SileroVad, ComputesWhatOnnxRuntimeComputes) {
  auto pcm = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(pcm.is_ok()) << pcm.status().message();
  std::ifstream ref(std::string(PARLEY_TEST_DATA) + "/silero_reference.txt");
  ASSERT_TRUE(ref.good());
  std::vector<double> expected;
  for (double p; ref >> p;) expected.push_back(p);
  ASSERT_EQ(expected.size(), pcm->samples.size() / 512);
  auto probe = open_silero_probe(*model_);
  ASSERT_TRUE(probe.is_ok());
  double worst = 0;
  int speech = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double p = (*probe)->next(&pcm->samples[i * 512]);
    worst = std::max(worst, std::abs(p - expected[i]));
    speech += p > 0.5 ? 1 : 0;
  }
  EXPECT_LT(worst, 0.005) << "largest difference from ONNX Runtime's probabilities";
  EXPECT_GT(speech, static_cast<int>(expected.size()) / 2) << "a read sentence is mostly speech";
}

TEST_F(SileroVad, SpeechIsSpeechAndSilenceAndAStreetAreNot) {
  auto speech = audio::read_audio_file_16k(kSpeech);
  ASSERT_TRUE(speech.is_ok());
  EXPECT_GT(voiced_fraction(speech->samples), 0.6);
  EXPECT_LT(voiced_fraction(std::vector<float>(16000 * 2, 0.0F)), 0.01);
  ASSERT_TRUE(std::filesystem::exists(kStreet)) << "scripts/install-deps.sh installs btanks-data";
  auto street = audio::read_audio_file_16k(kStreet);
  ASSERT_TRUE(street.is_ok());
  // The street's traffic and voices far off, levelled as loud as the sentence.
  EXPECT_LT(voiced_fraction(street->samples), 0.1);
}

TEST_F(SileroVad, RefusesWrongFrameSizesAndStaysUsable) {
  auto s = model_->open_stream();
  ASSERT_TRUE(s.is_ok());
  std::vector<float> odd(161, 0.0F);
  auto r = (*s)->is_speech(odd);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::invalid_argument);
  EXPECT_TRUE((*s)->is_speech(std::span(odd).first(160)).is_ok());
}

TEST(SileroModelFile, MissingDamagedOrForeignFilesGiveClearErrors) {
  auto missing = make_silero_vad({.model_path = "/nonexistent/silero.onnx"});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), core::Code::unavailable);
  EXPECT_NE(missing.status().message().find("install-deps"), std::string::npos);

  std::ifstream in(kSileroDefaultModel, std::ios::binary);
  ASSERT_TRUE(in.good()) << "scripts/install-deps.sh installs " << kSileroDefaultModel;
  std::ostringstream all;
  all << in.rdbuf();
  const std::string bytes = all.str();
  // Every cut and random damage either parses or fails cleanly (never reads
  // past the end: the sanitizer builds check that).
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string damaged = bytes.substr(0, rng() % bytes.size());
    if (i % 2 == 1) damaged = bytes;
    for (int k = 0; k < 4 && !damaged.empty(); ++k) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    (void)onnx_float_constants(damaged);
  }
  const std::string path = ::testing::TempDir() + "/not_silero.onnx";
  std::ofstream(path, std::ios::binary) << "this is not a model";
  auto foreign = make_silero_vad({.model_path = path});
  ASSERT_FALSE(foreign.is_ok());
  EXPECT_EQ(foreign.status().code(), core::Code::invalid_argument);
  for (const char* odd : {"/dev/zero", "/tmp", ""}) {  // endless, a directory, no path
    auto r = make_silero_vad({.model_path = odd});
    ASSERT_FALSE(r.is_ok()) << odd;
    EXPECT_NE(r.status().message().find("--vad webrtc"), std::string::npos) << r.status().message();
  }
  const std::string empty = ::testing::TempDir() + "/empty.onnx";
  std::ofstream(empty, std::ios::binary).flush();
  auto e = make_silero_vad({.model_path = empty});
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("empty"), std::string::npos);
  auto bad_threshold = make_silero_vad({.threshold = 1.5});
  EXPECT_FALSE(bad_threshold.is_ok());
}

}  // namespace
}  // namespace parley::engines::vad
