// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/segmenter.h"

#include <algorithm>

#include "audio/pcm.h"

namespace parley::pipeline {
namespace {
constexpr int kFrameMs = 10;
int frames_for(int ms) { return std::max(1, ms / kFrameMs); }
}  // namespace

Segmenter::Segmenter(std::unique_ptr<engines::vad::Stream> vad, SegmenterConfig config,
                     SegmenterListener& listener)
    : vad_(std::move(vad)), c_(config), listener_(listener) {
  partial_frame_.reserve(audio::kFrameSamples);
}

core::Status Segmenter::push(std::span<const float> samples) {
  while (!samples.empty()) {
    size_t take = std::min(samples.size(), audio::kFrameSamples - partial_frame_.size());
    partial_frame_.insert(partial_frame_.end(), samples.begin(), samples.begin() + take);
    samples = samples.subspan(take);
    if (partial_frame_.size() == static_cast<size_t>(audio::kFrameSamples)) {
      auto st = push_frame(partial_frame_);
      partial_frame_.clear();
      if (!st) return st;
    }
  }
  return {};
}

core::Status Segmenter::push_frame(std::span<const float> frame) {
  auto voiced = vad_->is_speech(frame);
  if (!voiced) return voiced.status();
  n_samples_ += static_cast<int64_t>(frame.size());

  if (in_utterance_) {
    listener_.on_utterance_audio(frame);
    ++utterance_frames_;
    silence_frames_ = *voiced ? 0 : silence_frames_ + 1;
    if (silence_frames_ >= frames_for(c_.hangover_ms)) {
      in_utterance_ = false;
      listener_.on_utterance_end(n_samples_, EndReason::silence);
    } else if (utterance_frames_ >= frames_for(c_.max_utterance_ms)) {
      in_utterance_ = false;
      listener_.on_utterance_end(n_samples_, EndReason::max_length);
    }
    return {};
  }

  // Idle: remember the frame for pre-roll and count voice in the window.
  pre_roll_.emplace_back(frame.begin(), frame.end());
  const size_t pre_roll_frames = static_cast<size_t>(frames_for(c_.pre_roll_ms));
  const size_t start_frames = static_cast<size_t>(frames_for(c_.speech_start_ms));
  // The pre-roll must also hold the voiced frames that triggered the start.
  while (pre_roll_.size() > pre_roll_frames + 2 * start_frames) pre_roll_.pop_front();
  window_.push_back(*voiced);
  n_voiced_in_window_ += *voiced ? 1 : 0;
  if (window_.size() > 2 * start_frames) {
    n_voiced_in_window_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  if (static_cast<size_t>(n_voiced_in_window_) < start_frames) return {};

  // Speech: open the utterance with the remembered audio.
  in_utterance_ = true;
  silence_frames_ = 0;
  utterance_frames_ = static_cast<int>(pre_roll_.size());
  const int64_t start = n_samples_ - static_cast<int64_t>(pre_roll_.size()) * audio::kFrameSamples;
  listener_.on_utterance_start(start);
  for (const auto& f : pre_roll_) listener_.on_utterance_audio(f);
  pre_roll_.clear();
  window_.clear();
  n_voiced_in_window_ = 0;
  return {};
}

void Segmenter::flush() {
  if (in_utterance_) {
    if (!partial_frame_.empty()) {
      listener_.on_utterance_audio(partial_frame_);
      n_samples_ += static_cast<int64_t>(partial_frame_.size());
    }
    in_utterance_ = false;
    listener_.on_utterance_end(n_samples_, EndReason::end_of_stream);
  } else {
    n_samples_ += static_cast<int64_t>(partial_frame_.size());
  }
  partial_frame_.clear();
  pre_roll_.clear();
  window_.clear();
  n_voiced_in_window_ = 0;
}

}  // namespace parley::pipeline
