// SPDX-License-Identifier: GPL-3.0-or-later
// Cuts a continuous 16 kHz stream into utterances from per-frame VAD decisions.
//
// Speech starts once `speech_start_ms` of voiced frames fall within a window
// of twice that length; the utterance then includes `pre_roll_ms` of audio
// before the first voiced frame, so word onsets are not clipped. It ends after
// `hangover_ms` without voice, or at `max_utterance_ms`, whichever is first.
// Driven by one thread; does no I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "engines/vad/vad.h"

namespace parley::pipeline {

struct SegmenterConfig {
  int speech_start_ms = 60;
  int hangover_ms = 500;
  int pre_roll_ms = 300;
  int max_utterance_ms = 20000;
};

enum class EndReason { silence, max_length, end_of_stream };

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
  Segmenter(std::unique_ptr<engines::vad::Stream> vad, SegmenterConfig config,
            SegmenterListener& listener);

  // Any number of samples; frames are cut internally.
  core::Status push(std::span<const float> samples);
  // Ends an open utterance (end of file, speaker paused).
  void flush();

  bool in_utterance() const { return in_utterance_; }
  int64_t n_samples_seen() const { return n_samples_; }

 private:
  core::Status push_frame(std::span<const float> frame);

  std::unique_ptr<engines::vad::Stream> vad_;
  SegmenterConfig c_;
  SegmenterListener& listener_;

  std::vector<float> partial_frame_;
  std::deque<std::vector<float>> pre_roll_;  // frames before speech start
  std::deque<bool> window_;                  // recent voiced flags while idle
  int n_voiced_in_window_ = 0;
  bool in_utterance_ = false;
  int silence_frames_ = 0;
  int utterance_frames_ = 0;
  int64_t n_samples_ = 0;  // samples framed so far
};

}  // namespace parley::pipeline
