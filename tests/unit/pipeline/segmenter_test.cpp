// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/segmenter.h"

#include <gtest/gtest.h>

#include <cmath>

namespace parley::pipeline {
namespace {

// Voice wherever the frame is loud: lets the test place speech exactly.
class LoudnessVad final : public engines::vad::Stream {
 public:
  core::Result<bool> is_speech(std::span<const float> frame) override {
    return std::fabs(frame[0]) > 0.1F;
  }
};

struct Event {
  char kind;  // 's' start, 'e' end
  int64_t sample;
  EndReason reason = EndReason::silence;
};

class Recorder final : public SegmenterListener {
 public:
  std::vector<Event> events;
  int64_t audio_in_utterance = 0;
  void on_utterance_start(int64_t s) override { events.push_back({'s', s}); }
  void on_utterance_audio(std::span<const float> a) override {
    audio_in_utterance += static_cast<int64_t>(a.size());
  }
  void on_utterance_end(int64_t s, EndReason r) override { events.push_back({'e', s, r}); }
};

std::vector<float> signal(std::initializer_list<std::pair<int, bool>> spans_ms) {
  std::vector<float> out;
  for (auto [ms, loud] : spans_ms) out.insert(out.end(), static_cast<size_t>(ms) * 16, loud ? 0.5F : 0.0F);
  return out;
}

TEST(Segmenter, OpensWithPreRollAndClosesAfterHangover) {
  Recorder rec;
  SegmenterConfig c{.speech_start_ms = 60, .hangover_ms = 300, .pre_roll_ms = 200, .max_utterance_ms = 20000};
  Segmenter seg(std::make_unique<LoudnessVad>(), c, rec);
  auto audio = signal({{1000, false}, {800, true}, {1000, false}});
  // Odd block sizes: framing must not depend on how audio arrives.
  for (size_t off = 0; off < audio.size(); off += 777) {
    ASSERT_TRUE(seg.push(std::span(audio).subspan(off, std::min<size_t>(777, audio.size() - off))).is_ok());
  }
  ASSERT_EQ(rec.events.size(), 2U);
  // Speech began at 1000 ms; the start is confirmed after 60 ms and reaches back 200 ms before.
  EXPECT_EQ(rec.events[0].kind, 's');
  EXPECT_NEAR(rec.events[0].sample / 16.0, 1000 - 200, 70);
  EXPECT_EQ(rec.events[1].kind, 'e');
  EXPECT_NEAR(rec.events[1].sample / 16.0, 1800 + 300, 20);
  EXPECT_EQ(rec.audio_in_utterance, rec.events[1].sample - rec.events[0].sample);
}

TEST(Segmenter, ShortPausesDoNotSplitAnUtterance) {
  Recorder rec;
  Segmenter seg(std::make_unique<LoudnessVad>(), {.hangover_ms = 500}, rec);
  auto audio = signal({{500, false}, {600, true}, {300, false}, {600, true}, {1000, false}});
  ASSERT_TRUE(seg.push(audio).is_ok());
  ASSERT_EQ(rec.events.size(), 2U);
}

TEST(Segmenter, ClicksShorterThanSpeechStartAreIgnored) {
  Recorder rec;
  Segmenter seg(std::make_unique<LoudnessVad>(), {.speech_start_ms = 100}, rec);
  auto audio = signal({{500, false}, {30, true}, {500, false}, {40, true}, {500, false}});
  ASSERT_TRUE(seg.push(audio).is_ok());
  EXPECT_TRUE(rec.events.empty());
}

TEST(Segmenter, LongSpeechIsCutAtMaxLength) {
  Recorder rec;
  Segmenter seg(std::make_unique<LoudnessVad>(), {.max_utterance_ms = 2000}, rec);
  auto audio = signal({{5000, true}});
  ASSERT_TRUE(seg.push(audio).is_ok());
  seg.flush();
  ASSERT_GE(rec.events.size(), 4U);
  EXPECT_EQ(rec.events[1].reason, EndReason::max_length);
  EXPECT_EQ(rec.events.back().reason, EndReason::end_of_stream);
}

TEST(Segmenter, FlushClosesAnOpenUtterance) {
  Recorder rec;
  Segmenter seg(std::make_unique<LoudnessVad>(), {}, rec);
  auto audio = signal({{200, false}, {500, true}});
  ASSERT_TRUE(seg.push(audio).is_ok());
  EXPECT_TRUE(seg.in_utterance());
  seg.flush();
  ASSERT_EQ(rec.events.size(), 2U);
  EXPECT_EQ(rec.events[1].reason, EndReason::end_of_stream);
  EXPECT_EQ(rec.events[1].sample, static_cast<int64_t>(audio.size()));
}

}  // namespace
}  // namespace parley::pipeline
