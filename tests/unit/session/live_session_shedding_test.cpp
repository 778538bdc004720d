// SPDX-License-Identifier: GPL-3.0-or-later
// A session whose worker cannot keep up: real speech pushed far faster than
// real time into a small inbox. The oldest audio is dropped in stretches,
// each marked once in the transcript, in order, and counted.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "app/engine_set.h"
#include "audio/wav_io.h"
#include "session/live_session.h"

namespace parley::session {
namespace {

using nlohmann::json;

class Collect final : public fanout::Subscriber {
 public:
  void deliver(fanout::MessagePtr m) override {
    if (m->binary) return;
    std::lock_guard lock(mu_);
    messages_.push_back(json::parse(m->bytes));
  }
  void close(const std::string&) override {}
  std::vector<json> finals() const {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& m : messages_) {
      if (m["type"] == "final") out.push_back(m);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<json> messages_;
};

TEST(LiveSessionShedding, DroppedAudioIsMarkedOnceAStretchInOrder) {
  auto engines = app::load_engines({.need_speech_out = false});
  ASSERT_TRUE(engines.is_ok()) << engines.status().message();
  auto pcm = audio::read_audio_file_16k(
      "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0920.wav");
  ASSERT_TRUE(pcm.is_ok());
  const auto pcm16 = audio::to_pcm16(pcm->samples);

  SessionInfo info;
  info.code = "123456";
  info.spec.source_language = "en";
  info.spec.default_targets = {"es"};
  LiveConfig config;
  config.audio_queue_frames = 20;  // 0.4 s of 20 ms frames
  config.telemetry = std::make_shared<Telemetry>();
  auto s = LiveSession::create(info, "", *engines, nullptr, config);
  ASSERT_TRUE(s->apply(Action::start).is_ok());
  auto listener = std::make_shared<Collect>();
  ASSERT_TRUE(s->add_listener(listener, "en", 0).is_ok());

  // The recording three times, as fast as the loop goes: far beyond real time.
  uint32_t seq = 0;
  for (int round = 0; round < 3; ++round) {
    for (size_t off = 0; off + 320 <= pcm16.size(); off += 320) {
      ASSERT_TRUE(s->push_audio(++seq, std::span(pcm16).subspan(off, 320), 16000, nullptr).is_ok());
    }
  }
  s->end("test over");
  for (int i = 0; i < 600 && !s->worker_exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(s->worker_exited());

  const auto& shed = config.telemetry->shed;
  EXPECT_GT(s->counters().audio_frames_dropped.load(), 0U);
  EXPECT_GT(shed.lost_ms.load(), 0U);
  EXPECT_GE(shed.episodes[static_cast<size_t>(ShedStep::oldest_audio)].load(), 1U);
  const auto finals = listener->finals();
  size_t marks = 0;
  int64_t last_seq = 0, last_end_ms = 0;
  for (const auto& f : finals) {
    EXPECT_GT(f["seq"].get<int64_t>(), last_seq) << "in order, once each";
    last_seq = f["seq"].get<int64_t>();
    if (f["source"] == LiveSession::kGapMark) {
      ++marks;
      EXPECT_EQ(f["text"], LiveSession::kGapMark);
      EXPECT_GE(f["startMs"].get<int64_t>(), last_end_ms) << "the mark sits where the audio was lost";
    }
    last_end_ms = std::max(last_end_ms, f["endMs"].get<int64_t>());
  }
  EXPECT_GE(marks, 1U);
  EXPECT_EQ(marks, shed.gaps.load()) << "every gap marked, every mark a gap";
  // Far fewer marks than dropped frames: one a dropped stretch.
  EXPECT_LT(marks * 5, s->counters().audio_frames_dropped.load());
}

}  // namespace
}  // namespace parley::session
