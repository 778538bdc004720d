// SPDX-License-Identifier: GPL-3.0-or-later
// Cuts a continuous 16 kHz stream into utterances from per-frame VAD decisions.
//
// A frame is speech when the VAD says voice and the frame stands out of the
// room's background (noise_floor.h). Speech starts once `speech_start_ms` of
// speech frames fall within a window of twice that length; the utterance then
// includes `pre_roll_ms` of audio before the first voiced frame, so word
// onsets are not clipped. It ends in a pause when the endpointer says so
// (endpointer.h: between `min_hangover_ms` and `hangover_ms` of silence), or
// near `max_utterance_ms`: in the last `cut_search_ms` before that length it
// ends at the first quiet frame (one among the quietest fifth of the
// utterance's frames, or after 50 ms without voice), so a forced cut falls
// between words, not in one; at the length itself it ends regardless.
// Driven by one thread; does no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "engines/vad/vad.h"
#include "pipeline/endpointer.h"
#include "pipeline/noise_floor.h"

namespace parley::pipeline {

struct SegmenterConfig {
  int speech_start_ms = 60;
  int hangover_ms = 500;  // the longest pause inside an utterance
  int pre_roll_ms = 300;
  int max_utterance_ms = 20000;
  EndpointPolicy endpointing = EndpointPolicy::adaptive;
  int min_hangover_ms = 150;  // the shortest pause that can end one (adaptive)
  int cut_search_ms = 3000;
  NoiseFloorConfig noise_floor{};
};

// silence: the full hangover; pause: sooner, on the endpointer's evidence;
// max_length: a forced cut.
enum class EndReason { silence, pause, max_length, end_of_stream };

class SegmenterListener {
 public:
  virtual ~SegmenterListener() = default;
  // `start_sample` counts samples since the stream began, pre-roll included.
  virtual void on_utterance_start(int64_t start_sample) = 0;
  // Audio of the open utterance, in order, without gaps.
  virtual void on_utterance_audio(std::span<const float> samples) = 0;
  // `end_sample` is one past the last sample given to on_utterance_audio.
  virtual void on_utterance_end(int64_t end_sample, EndReason reason) = 0;
};

class Segmenter {
 public:
  // `hypotheses` (may be null) lets the endpointer ask the recogniser.
  Segmenter(std::unique_ptr<engines::vad::Stream> vad, SegmenterConfig config,
            SegmenterListener& listener, std::string language = "en",
            HypothesisSource* hypotheses = nullptr);

  // Any number of samples; frames are cut internally.
  core::Status push(std::span<const float> samples);
  // Ends an open utterance (end of file, speaker paused).
  void flush();

  bool in_utterance() const { return in_utterance_; }
  int64_t n_samples_seen() const { return n_samples_; }
  double noise_floor_db() const { return noise_.floor_db(); }

 private:
  core::Status push_frame(std::span<const float> frame);
  void end_utterance(EndReason reason);
  // A level among the quietest fifth of this utterance's frames.
  bool among_quietest(double level_db) const;

  std::unique_ptr<engines::vad::Stream> vad_;
  SegmenterConfig c_;
  SegmenterListener& listener_;

  std::vector<float> partial_frame_;
  std::deque<std::vector<float>> pre_roll_;  // frames before speech start
  std::deque<bool> window_;                  // recent voiced flags while idle
  int n_voiced_in_window_ = 0;
  bool in_utterance_ = false;
  int utterance_frames_ = 0;
  // A forced cut takes a pause of this many frames, not a detector's
  // momentary "no voice" inside a word (a learned detector dips there).
  static constexpr int kCutPauseFrames = 5;
  int unvoiced_run_ = 0;  // frames since the detector last heard voice
  int64_t n_samples_ = 0;  // samples framed so far
  NoiseFloor noise_;
  Endpointer endpointer_;
  std::array<int, 140> level_counts_{};  // this utterance's frame levels, 1 dB bins from -140 dBFS
};

}  // namespace parley::pipeline
