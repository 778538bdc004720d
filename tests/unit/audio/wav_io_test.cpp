// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/wav_io.h"

#include "common/interleaved_wav.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "audio/resampler.h"

namespace parley::audio {
namespace {

namespace fs = std::filesystem;

class WavIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("parley-wav-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

MonoPcm sine(int rate, double seconds, double hz) {
  MonoPcm p;
  p.sample_rate_hz = rate;
  auto n = static_cast<size_t>(rate * seconds);
  for (size_t i = 0; i < n; ++i) p.samples.push_back(0.5F * std::sin(2 * M_PI * hz * i / rate));
  return p;
}

TEST_F(WavIo, WritesAndReadsBack) {
  auto p = sine(22050, 0.5, 440);
  ASSERT_TRUE(write_wav16(path("a.wav"), p).is_ok());
  auto back = read_audio_file(path("a.wav"));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->sample_rate_hz, 22050);
  ASSERT_EQ(back->samples.size(), p.samples.size());
  for (size_t i = 0; i < p.samples.size(); i += 97) EXPECT_NEAR(back->samples[i], p.samples[i], 1e-3);
}

TEST_F(WavIo, EightKilohertzStereoBecomesSixteenKilohertzMono) {
  // Write 8 kHz stereo by hand: left channel a tone, right channel its negation / 2.
  const int rate = 8000;
  const size_t n = 8000;
  std::vector<int16_t> interleaved;
  for (size_t i = 0; i < n; ++i) {
    auto s = static_cast<int16_t>(16000 * std::sin(2 * M_PI * 300 * i / rate));
    interleaved.push_back(s);
    interleaved.push_back(s);
  }
  parley::testing::write_interleaved_wav16(path("st.wav"), interleaved, 2, static_cast<uint32_t>(rate));

  auto pcm = read_audio_file_16k(path("st.wav"));
  ASSERT_TRUE(pcm.is_ok()) << pcm.status().message();
  EXPECT_EQ(pcm->sample_rate_hz, 16000);
  EXPECT_NEAR(static_cast<double>(pcm->samples.size()), 16000.0, 40.0);
  float peak = 0;
  for (float s : pcm->samples) peak = std::max(peak, std::fabs(s));
  EXPECT_NEAR(peak, 16000.0 / 32768.0, 0.05);  // both channels equal: the mix keeps the level
}

TEST_F(WavIo, EmptyFileIsRejectedWithOneLine) {
  std::ofstream(path("empty.wav")).close();
  auto r = read_audio_file(path("empty.wav"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::invalid_argument);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST_F(WavIo, TextFileIsRejected) {
  std::ofstream(path("notes.wav")) << "these are meeting notes, not audio\n";
  auto r = read_audio_file(path("notes.wav"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not a readable audio file"), std::string::npos);
}

TEST_F(WavIo, TruncatedWavKeepsWhatIsThereOrFailsCleanly) {
  auto p = sine(16000, 1.0, 440);
  ASSERT_TRUE(write_wav16(path("full.wav"), p).is_ok());
  auto size = fs::file_size(path("full.wav"));
  // Cut in the middle of the data and inside the header.
  for (uintmax_t keep : {size / 2, uintmax_t{30}}) {
    fs::copy_file(path("full.wav"), path("cut.wav"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.wav"), keep);
    auto r = read_audio_file(path("cut.wav"));
    if (r.is_ok()) {
      EXPECT_LT(r->samples.size(), p.samples.size());
      EXPECT_GT(r->samples.size(), 0U);
    } else {
      EXPECT_EQ(r.status().code(), core::Code::invalid_argument);
    }
  }
}

TEST_F(WavIo, MissingFileIsNotFound) {
  auto r = read_audio_file(path("nope.wav"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), core::Code::not_found);
}

TEST(Resampler, StreamingMatchesLengthAndRejectsBadRates) {
  auto bad = StreamResampler::create(0, 16000);
  EXPECT_FALSE(bad.is_ok());
  auto r = StreamResampler::create(48000, 16000);
  ASSERT_TRUE(r.is_ok());
  std::vector<float> out;
  std::vector<float> block(480, 0.25F);
  for (int i = 0; i < 100; ++i) (*r)->process(block, out);  // one second
  (*r)->flush(out);
  EXPECT_NEAR(static_cast<double>(out.size()), 16000.0, 16.0);
}

}  // namespace
}  // namespace parley::audio
