// SPDX-License-Identifier: GPL-3.0-or-later
// parley-load, the tool every fan-out and latency figure in
// docs/benchmarks.md comes from, run against a real server: its listeners
// must all get in, and what it reports must agree with what was sent. Small
// counts only: this checks the tool and the server's bookkeeping, not speed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/librivox.h"
#include "support/run.h"
#include "support/server_process.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class LoadTool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("parley-load-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<testing::ServerProcess>((dir_ / "p.db").string());
  }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  json load(std::vector<std::string> args) {
    const char* bin = std::getenv("PARLEY_LOAD_BIN");
    if (bin == nullptr) throw std::runtime_error("PARLEY_LOAD_BIN is not set (run through ctest)");
    args.insert(args.end(), {"--server", "127.0.0.1:" + std::to_string(server_->port()), "--json"});
    auto r = testing::run_program(bin, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  fs::path dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(LoadTool, CaptionModeCountsEveryDeliveryOfEveryCaption) {
  auto j = load({"captions", "--listeners", "300", "--procs", "3", "--rate", "5", "--duration", "2", "--drain", "5"});
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["connected"], 300);
  EXPECT_EQ(j["connectFailures"], 0);
  EXPECT_EQ(j["closedByServer"], 0);
  const int sent = j["captionsSent"];
  EXPECT_EQ(sent, 10);
  EXPECT_EQ(j["deliveries"], 300 * sent) << "every listener got every caption once";
  EXPECT_EQ(j["lost"], 0);
  EXPECT_EQ(j["duplicates"], 0);
  EXPECT_EQ(j["listenersWithEveryCaption"], 300);
  EXPECT_EQ(j["delivery"]["count"], 300 * sent);
  const double p50 = j["delivery"]["p50Ms"], p99 = j["delivery"]["p99Ms"], max = j["delivery"]["maxMs"];
  EXPECT_GT(p50, 0.0);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, max);
  EXPECT_GT(j["loadGenerator"]["cpuSeconds"].get<double>(), 0.0) << "the tool reports its own cost";
}

TEST_F(LoadTool, SpeechModeMeasuresFinalsAndTranslatedSpeechPerListener) {
  auto recs = testing::librivox_recordings();
  ASSERT_GE(recs.size(), 2U);
  auto j = load({"speech", "--wav", recs[0].wav_path, "--wav", recs[1].wav_path, "--speakers", "1", "--listeners",
                 "12", "--procs", "2", "--languages", "es,fr", "--duration", "14", "--drain", "4"});
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["connected"], 12);
  EXPECT_EQ(j["closedByServer"], 0);
  // Two recordings, each ending in speech well inside 14 s: every listener
  // measures at least those two finals and their translated speech.
  EXPECT_GE(j["finalCaption"]["count"].get<int>(), 12 * 2);
  EXPECT_GE(j["firstTranslatedAudio"]["count"].get<int>(), 12 * 2);
  const double final_p50 = j["finalCaption"]["p50Ms"];
  EXPECT_GT(final_p50, 0.0) << "a final cannot come before the speech ended";
  EXPECT_LT(final_p50, 5000.0);
  EXPECT_GT(j["speechMessages"].get<int>(), 0);
}

}  // namespace
}  // namespace parley
