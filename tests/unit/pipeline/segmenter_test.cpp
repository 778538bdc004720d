// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/segmenter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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
  SegmenterConfig c{.speech_start_ms = 60, .hangover_ms = 300, .pre_roll_ms = 200, .max_utterance_ms = 20000,
                    .endpointing = EndpointPolicy::fixed};
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
  Segmenter seg(std::make_unique<LoudnessVad>(), {.hangover_ms = 500, .endpointing = EndpointPolicy::fixed}, rec);
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
  // A level that never changes is a noise to the noise floor: off here.
  Segmenter seg(std::make_unique<LoudnessVad>(), {.max_utterance_ms = 2000, .noise_floor = {.enabled = false}}, rec);
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

// The VAD of a noisy room: it hears voice in everything.
class AlwaysVoice final : public engines::vad::Stream {
 public:
  core::Result<bool> is_speech(std::span<const float>) override { return true; }
};

// Gaussian noise at `db` dBFS for `ms`, appended to `out`.
void append_noise(std::vector<float>& out, std::mt19937& rng, int ms, double db) {
  std::normal_distribution<float> n(0.0F, static_cast<float>(std::pow(10.0, db / 20)));
  for (int i = 0; i < ms * 16; ++i) out.push_back(n(rng));
}

std::vector<float> bursts_in_steady_noise() {
  std::mt19937 rng(7);
  std::vector<float> audio;
  append_noise(audio, rng, 4000, -40);  // the room before anyone speaks
  for (int i = 0; i < 3; ++i) {
    std::vector<float> voice;
    append_noise(voice, rng, 1000, -28);
    std::vector<float> room;
    append_noise(room, rng, 1000, -40);
    for (size_t k = 0; k < voice.size(); ++k) audio.push_back(voice[k] + room[k]);
    append_noise(audio, rng, 700, -40);
  }
  return audio;
}

TEST(Segmenter, InSteadyNoiseThePausesStillEndUtterances) {
  Recorder rec;
  Segmenter seg(std::make_unique<AlwaysVoice>(), {}, rec);
  ASSERT_TRUE(seg.push(bursts_in_steady_noise()).is_ok());
  std::vector<Event> ends;
  for (const auto& e : rec.events) {
    if (e.kind == 'e') ends.push_back(e);
  }
  ASSERT_EQ(ends.size(), 3U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(ends[static_cast<size_t>(i)].reason, EndReason::max_length);
    const double burst_end_ms = 4000 + 1000 + i * 1700;
    EXPECT_GT(ends[static_cast<size_t>(i)].sample / 16.0, burst_end_ms);
    EXPECT_LT(ends[static_cast<size_t>(i)].sample / 16.0, burst_end_ms + 600);
  }
  EXPECT_NEAR(seg.noise_floor_db(), -41, 3);
}

TEST(Segmenter, WithoutTheNoiseFloorSteadyNoiseIsOneLongUtterance) {
  Recorder rec;
  SegmenterConfig c;
  c.noise_floor.enabled = false;
  Segmenter seg(std::make_unique<AlwaysVoice>(), c, rec);
  ASSERT_TRUE(seg.push(bursts_in_steady_noise()).is_ok());
  ASSERT_EQ(rec.events.size(), 1U) << "it opened and never closed";
}

TEST(Segmenter, AForcedCutFallsInAGapBetweenWords) {
  Recorder rec;
  SegmenterConfig c{.max_utterance_ms = 6000, .endpointing = EndpointPolicy::fixed, .cut_search_ms = 3000};
  c.noise_floor.enabled = false;  // the VAD hears voice throughout; only levels tell words from gaps
  Segmenter seg(std::make_unique<AlwaysVoice>(), c, rec);
  // Words of 230 ms at 0.5, gaps of 40 ms at 0.02: never a pause long enough to end.
  std::vector<float> audio;
  for (int w = 0; w < 40; ++w) {
    audio.insert(audio.end(), 230 * 16, 0.5F);
    audio.insert(audio.end(), 40 * 16, 0.02F);
  }
  ASSERT_TRUE(seg.push(audio).is_ok());
  ASSERT_GE(rec.events.size(), 2U);
  ASSERT_EQ(rec.events[1].reason, EndReason::max_length);
  const int64_t end_ms = rec.events[1].sample / 16;
  EXPECT_GE(end_ms, 3000);
  EXPECT_LT(end_ms, 6000) << "cut before the limit, at the first gap after the search began";
  const int64_t in_word = end_ms % 270;  // position within a word + gap cycle
  EXPECT_GT(in_word, 230) << "the cut falls in a gap, not in a word (" << end_ms << " ms)";
}

}  // namespace
}  // namespace parley::pipeline
