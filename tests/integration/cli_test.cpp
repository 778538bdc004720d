// SPDX-License-Identifier: GPL-3.0-or-later
// The `parley` binary as a user runs it: translate a real recording, list
// languages, translate text, and fail clearly on bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audio/resampler.h"
#include "audio/wav_io.h"
#include "common/interleaved_wav.h"
#include "support/librivox.h"
#include "support/run.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using testing::run_parley;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("parley-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  static int n_lines(const std::string& s) {
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }
  fs::path dir_;
};

TEST_F(Cli, TranslatesARecordingIntoSpanishFrenchPortuguese) {
  auto recs = testing::librivox_recordings();
  ASSERT_FALSE(recs.empty());
  const auto& rec = recs.front();
  auto r = run_parley({"translate", rec.wav_path, "--from", "en", "--to", "es,fr,pt", "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("real-time factor"), std::string::npos);
  EXPECT_NE(r.err.find("translating"), std::string::npos) << "progress on stderr";

  auto report = nlohmann::json::parse(slurp(path("out/report.json")));
  ASSERT_GE(report["utterances"].size(), 1U);
  for (const auto& u : report["utterances"]) {
    EXPECT_LT(u["start_ms"].get<int64_t>(), u["end_ms"].get<int64_t>());
    EXPECT_FALSE(u["source"].get<std::string>().empty());
    for (const char* lang : {"es", "fr", "pt"}) {
      EXPECT_FALSE(u["translations"][lang].get<std::string>().empty()) << lang;
    }
    for (const char* stage : {"stt", "mt", "tts"}) EXPECT_GT(u["timings_ms"][stage].get<double>(), 0) << stage;
  }
  EXPECT_GT(report["totals"]["real_time_factor"].get<double>(), 0);

  auto source_vtt = slurp(path("out/source.vtt"));
  EXPECT_EQ(source_vtt.rfind("WEBVTT", 0), 0U);
  EXPECT_NE(source_vtt.find(" --> "), std::string::npos);
  auto source = audio::read_audio_file(rec.wav_path);
  for (const char* lang : {"es", "fr", "pt"}) {
    auto vtt = slurp(path(std::string("out/") + lang + ".vtt"));
    EXPECT_EQ(vtt.rfind("WEBVTT", 0), 0U) << lang;
    EXPECT_NE(vtt.find(report["utterances"][0]["translations"][lang].get<std::string>()), std::string::npos);
    auto speech = audio::read_audio_file(path(std::string("out/") + lang + ".wav"));
    ASSERT_TRUE(speech.is_ok()) << lang << ": " << speech.status().message();
    EXPECT_GE(speech->duration_s(), source->duration_s() - 0.05) << lang;
    double energy = 0;
    for (float x : speech->samples) energy += x * x;
    EXPECT_GT(std::sqrt(energy / speech->samples.size()), 0.005) << lang << " speech is silent";
  }
}

TEST_F(Cli, LanguagesListsDirectAndPivotedRoutes) {
  auto r = run_parley({"languages"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j_run = run_parley({"languages", "--json"});
  ASSERT_EQ(j_run.exit_code, 0);
  auto j = nlohmann::json::parse(j_run.out);
  EXPECT_EQ(j["speech_sources"], nlohmann::json::array({"en"}));
  for (const char* to : {"es", "ca", "gl"}) EXPECT_FALSE(j["routes"]["en"][to]["pivoted"].get<bool>()) << to;
  for (const char* to : {"fr", "pt", "it"}) EXPECT_TRUE(j["routes"]["en"][to]["pivoted"].get<bool>()) << to;
  EXPECT_EQ(j["routes"]["en"]["fr"]["route"], "en→es→fr");
  // The same facts in the human listing.
  EXPECT_NE(r.out.find("en→es"), std::string::npos);
  EXPECT_NE(r.out.find("pivot  en→es→fr"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Voices"), std::string::npos);
}

TEST_F(Cli, TranslateTextIsLineForLine) {
  auto r = run_parley({"translate-text", "--from", "en", "--to", "fr"},
                      "The house is red.\n\nI have a small house.\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "La maison est rouge.\n\nJ'ai une maison petite.\n");
}

TEST_F(Cli, TranslateTextHonoursAGlossary) {
  std::ofstream(path("g.tsv")) << "# test glossary\nen\tes\ttown hall\tayuntamiento\n";
  auto r = run_parley({"translate-text", "--from", "en", "--to", "es", "--glossary", path("g.tsv")},
                      "The town hall is open.\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ayuntamiento"), std::string::npos) << r.out;
}

// Each bad input: a non-zero exit and one line on stderr that says what to do.
void expect_one_line_error(const testing::RunResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST_F(Cli, BadInputsFailWithOneClearLine) {
  const std::string wav = testing::librivox_recordings().front().wav_path;
  expect_one_line_error(run_parley({"translate", wav, "--to", "xx"}), "no translation from 'en' to 'xx'");
  expect_one_line_error(run_parley({"translate", wav, "--to", "german!"}), "not a language code");
  expect_one_line_error(run_parley({"translate", wav, "--from", "fr", "--to", "es"}), "no speech recogniser for 'fr'");
  expect_one_line_error(run_parley({"translate", path("missing.wav"), "--to", "es"}), "cannot open");
  expect_one_line_error(run_parley({"translate", wav}), "--to is required");
  expect_one_line_error(run_parley({"translate", wav, "--to", "es", "--bogus"}), "unknown option");
  expect_one_line_error(run_parley({"frobnicate"}), "unknown command");
  expect_one_line_error(run_parley({"translate-text", "--from", "en", "--to", "ja"}, "hi\n"), "no translation");

  std::ofstream(path("empty.wav")).close();
  expect_one_line_error(run_parley({"translate", path("empty.wav"), "--to", "es", "--out", path("o")}),
                        "not a readable audio file");
  std::ofstream(path("notes.wav")) << "Minutes of the meeting.\nNothing decided.\n";
  expect_one_line_error(run_parley({"translate", path("notes.wav"), "--to", "es", "--out", path("o")}),
                        "not a readable audio file");
  std::ofstream(path("g.tsv")) << "en\tes\tonly three columns\n";
  expect_one_line_error(run_parley({"translate", wav, "--to", "es", "--glossary", path("g.tsv")}), "g.tsv:1");
}

TEST_F(Cli, TruncatedRecordingIsTranslatedAsFarAsItGoes) {
  const std::string wav = testing::librivox_recordings().front().wav_path;
  fs::copy_file(wav, path("cut.wav"));
  fs::resize_file(path("cut.wav"), fs::file_size(wav) / 2);
  auto r = run_parley({"translate", path("cut.wav"), "--to", "es", "--out", path("o"), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(slurp(path("o/report.json")));
  EXPECT_GE(report["utterances"].size(), 1U);
}

TEST_F(Cli, EightKilohertzStereoRecordingWorks) {
  // A LibriVox recording resampled to 8 kHz and duplicated to two channels.
  // The recogniser's model is wideband, so telephone-band audio is recognised
  // poorly: this checks the conversion path and the timing, not accuracy.
  auto src = audio::read_audio_file(testing::librivox_recordings()[1].wav_path);
  ASSERT_TRUE(src.is_ok());
  auto narrow = audio::resample(*src, 8000);
  ASSERT_TRUE(narrow.is_ok());
  std::vector<int16_t> st;
  for (float x : narrow->samples) {
    auto s = static_cast<int16_t>(std::lrint(x * 32767));
    st.push_back(s);
    st.push_back(s);
  }
  testing::write_interleaved_wav16(path("st8k.wav"), st, 2, 8000);
  auto r = run_parley({"translate", path("st8k.wav"), "--to", "es", "--out", path("o"), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(slurp(path("o/report.json")));
  ASSERT_GE(report["utterances"].size(), 1U);
  EXPECT_FALSE(report["utterances"][0]["source"].get<std::string>().empty());
  EXPECT_NEAR(report["totals"]["audio_s"].get<double>(), src->duration_s(), 0.05);
  EXPECT_LE(report["utterances"].back()["end_ms"].get<int64_t>(), src->duration_s() * 1000 + 20);
}

TEST_F(Cli, NoiseOnlyGivesNoUtterancesAndNoError) {
  audio::MonoPcm noise{{}, 16000};
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0F, 0.002F);
  for (int i = 0; i < 16000 * 5; ++i) noise.samples.push_back(n(rng));
  ASSERT_TRUE(audio::write_wav16(path("noise.wav"), noise).is_ok());
  auto r = run_parley({"translate", path("noise.wav"), "--to", "es", "--out", path("o"), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(slurp(path("o/report.json")));
  EXPECT_EQ(report["utterances"].size(), 0U);
  EXPECT_TRUE(fs::exists(path("o/es.vtt")));
}

}  // namespace
}  // namespace parley
