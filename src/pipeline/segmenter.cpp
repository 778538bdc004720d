// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/segmenter.h"

#include <algorithm>
#include <cmath>

#include "audio/pcm.h"

namespace parley::pipeline {
namespace {
constexpr int kFrameMs = 10;
int frames_for(int ms) { return std::max(1, ms / kFrameMs); }
constexpr double kLowestLevelDb = -140.0;
constexpr double kQuietShare = 0.2;

size_t level_bin(double level_db, size_t n_bins) {
  const double bin = std::floor(level_db - kLowestLevelDb);
  return static_cast<size_t>(std::clamp(bin, 0.0, static_cast<double>(n_bins - 1)));
}

EndpointConfig endpoint_config(const SegmenterConfig& c) {
  return {.policy = c.endpointing, .min_silence_ms = c.min_hangover_ms, .max_silence_ms = c.hangover_ms};
}
}  // namespace

Segmenter::Segmenter(std::unique_ptr<engines::vad::Stream> vad, SegmenterConfig config,
                     SegmenterListener& listener, std::string language,
                     HypothesisSource* hypotheses)
    : vad_(std::move(vad)),
      c_(config),
      listener_(listener),
      noise_(config.noise_floor),
      endpointer_(endpoint_config(config), std::move(language), hypotheses) {
  partial_frame_.reserve(audio::kFrameSamples);
}

bool Segmenter::among_quietest(double level_db) const {
  int total = 0;
  for (int n : level_counts_) total += n;
  if (total < 100) return false;  // too little seen to know what quiet is
  int at_or_below = 0;
  const size_t bin = level_bin(level_db, level_counts_.size());
  for (size_t i = 0; i <= bin; ++i) at_or_below += level_counts_[i];
  return at_or_below <= static_cast<int>(kQuietShare * total);
}

void Segmenter::end_utterance(EndReason reason) {
  in_utterance_ = false;
  listener_.on_utterance_end(n_samples_, reason);
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
  auto vad_voice = vad_->is_speech(frame);
  if (!vad_voice) return vad_voice.status();
  const double level = noise_.push(frame);
  const bool voiced = *vad_voice && noise_.stands_out();
  n_samples_ += static_cast<int64_t>(frame.size());

  if (in_utterance_) {
    listener_.on_utterance_audio(frame);
    ++utterance_frames_;
    ++level_counts_[level_bin(level, level_counts_.size())];
    unvoiced_run_ = voiced ? 0 : unvoiced_run_ + 1;
    const int max_frames = frames_for(c_.max_utterance_ms);
    if (endpointer_.end_after_frame(voiced, noise_.noisy())) {
      end_utterance(endpointer_.evidence() == PauseEvidence::none ? EndReason::silence
                                                                  : EndReason::pause);
    } else if (utterance_frames_ >= max_frames ||
               (utterance_frames_ >= max_frames - frames_for(c_.cut_search_ms) &&
                (unvoiced_run_ >= kCutPauseFrames || among_quietest(level)))) {
      end_utterance(EndReason::max_length);
    }
    return {};
  }

  // Idle: remember the frame for pre-roll and count voice in the window.
  endpointer_.idle_frame(voiced);
  pre_roll_.emplace_back(frame.begin(), frame.end());
  const size_t pre_roll_frames = static_cast<size_t>(frames_for(c_.pre_roll_ms));
  const size_t start_frames = static_cast<size_t>(frames_for(c_.speech_start_ms));
  // The pre-roll must also hold the voiced frames that triggered the start.
  while (pre_roll_.size() > pre_roll_frames + 2 * start_frames) pre_roll_.pop_front();
  window_.push_back(voiced);
  n_voiced_in_window_ += voiced ? 1 : 0;
  if (window_.size() > 2 * start_frames) {
    n_voiced_in_window_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  if (static_cast<size_t>(n_voiced_in_window_) < start_frames) return {};

  // Speech: open the utterance with the remembered audio.
  in_utterance_ = true;
  endpointer_.begin_utterance();
  unvoiced_run_ = 0;
  level_counts_.fill(0);
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
    end_utterance(EndReason::end_of_stream);
  } else {
    n_samples_ += static_cast<int64_t>(partial_frame_.size());
  }
  partial_frame_.clear();
  pre_roll_.clear();
  window_.clear();
  n_voiced_in_window_ = 0;
}

}  // namespace parley::pipeline
