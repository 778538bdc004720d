// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/pace.h"

#include <algorithm>

namespace parley::pipeline {

SpeechPlan PaceController::plan(int64_t now_ms, int64_t source_end_ms) {
  SpeechPlan p;
  if (!c_.enabled) return p;
  const int64_t backlog = backlog_ms(now_ms);
  // When this speech would start: the time since its source ended, plus
  // what is queued before it.
  const int64_t wait = std::max<int64_t>(0, now_ms - source_end_ms) + backlog;
  if (backlog > 0) p.edge_ms = c_.min_edge_ms;
  const double third = static_cast<double>(c_.budget_ms) / 3.0;
  const double pressure = std::clamp((static_cast<double>(wait) - third) / (2.0 * third), 0.0, 1.0);
  const double wanted = 1.0 + (c_.max_rate - 1.0) * pressure;
  rate_ = wanted >= rate_ ? wanted : std::max(wanted, rate_ - c_.relax_step);
  p.rate = rate_;
  if (wait > c_.budget_ms && backlog > 0) p.speak = false;
  return p;
}

PaceController::Lag PaceController::scheduled(int64_t ready_ms, int64_t source_end_ms, int64_t duration_ms) {
  const int64_t start = std::max(ready_ms, playback_end_ms_);
  playback_end_ms_ = start + duration_ms;
  return {start - source_end_ms, playback_end_ms_ - source_end_ms};
}

void EdgeTrimmer::push(std::span<const float> in, std::vector<float>& out) {
  const auto loud = [this](float x) { return x > threshold_ || x < -threshold_; };
  if (!started_) {
    auto first = std::find_if(in.begin(), in.end(), loud);
    lead_.insert(lead_.end(), in.begin(), first);
    if (static_cast<int64_t>(lead_.size()) > keep_) {
      const auto extra = static_cast<int64_t>(lead_.size()) - keep_;
      dropped_lead_ += extra;
      lead_.erase(lead_.begin(), lead_.begin() + extra);
    }
    if (first == in.end()) return;
    started_ = true;
    out.insert(out.end(), lead_.begin(), lead_.end());
    lead_.clear();
    in = in.subspan(static_cast<size_t>(first - in.begin()));
  }
  auto last = std::find_if(in.rbegin(), in.rend(), loud);
  if (last == in.rend()) {
    held_.insert(held_.end(), in.begin(), in.end());
    return;
  }
  const auto n_sound = static_cast<size_t>(in.rend() - last);
  out.insert(out.end(), held_.begin(), held_.end());
  held_.assign(in.begin() + static_cast<long>(n_sound), in.end());
  out.insert(out.end(), in.begin(), in.begin() + static_cast<long>(n_sound));
}

void EdgeTrimmer::finish(std::vector<float>& out) {
  const auto n = std::min<int64_t>(keep_, static_cast<int64_t>(held_.size()));
  out.insert(out.end(), held_.begin(), held_.begin() + n);
  dropped_tail_ += static_cast<int64_t>(held_.size()) - n;
  held_.clear();
}

}  // namespace parley::pipeline
