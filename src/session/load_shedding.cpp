// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/load_shedding.h"

namespace parley::session {

const char* shed_step_name(ShedStep step) {
  switch (step) {
    case ShedStep::none: return "none";
    case ShedStep::partial_translations: return "partial_translations";
    case ShedStep::speech: return "speech";
    case ShedStep::partials: return "partials";
    case ShedStep::oldest_audio: return "oldest_audio";
  }
  return "none";
}

ShedStep LoadShedder::raise(ShedStep to, ShedStep* newly) {
  if (static_cast<int>(to) <= static_cast<int>(step_)) return step_;
  for (int s = static_cast<int>(step_) + 1; s <= static_cast<int>(to); ++s) {
    if (counters_ != nullptr) counters_->episodes[static_cast<size_t>(s)].fetch_add(1, std::memory_order_relaxed);
  }
  step_ = to;
  if (newly != nullptr) *newly = to;
  return step_;
}

ShedStep LoadShedder::update(int64_t behind_ms, ShedStep* newly) {
  caught_up_ = false;
  if (behind_ms < kCaughtUpMs) {
    caught_up_ = step_ != ShedStep::none;
    step_ = ShedStep::none;
    return step_;
  }
  ShedStep reached = ShedStep::none;
  for (int s = 3; s >= 1; --s) {
    if (behind_ms >= kStepMs[s - 1]) {
      reached = static_cast<ShedStep>(s);
      break;
    }
  }
  return raise(reached, newly);
}

ShedStep LoadShedder::dropped_audio(ShedStep* newly) {
  caught_up_ = false;
  return raise(ShedStep::oldest_audio, newly);
}

}  // namespace parley::session
