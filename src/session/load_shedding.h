// SPDX-License-Identifier: GPL-3.0-or-later
// What a session's worker gives up when it falls behind real time (more
// speakers than cores, a slow remote engine), in a declared order: the work
// that matters least goes first, captions last.
//
//   step 1, 1 s behind: partial captions' translations (a listener of a
//           target language reads the final a moment later);
//   step 2, 2 s behind: translated speech, except for the language with the
//           most audio listeners;
//   step 3, 3 s behind: partial captions altogether (the recogniser only
//           decodes; finals come as before);
//   step 4, the inbox is full (10 s of audio): the oldest audio is dropped,
//           and the gap is marked in the transcript.
//
// Finals already recognised are never dropped. The steps are undone
// together once the worker is less than 300 ms behind. Each step is counted
// once per episode (/metrics: parley_load_shed_total{step}) and logged once.
// Pure logic on the behind-ness the worker measures; driven by the worker.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace parley::session {

enum class ShedStep : int { none = 0, partial_translations = 1, speech = 2, partials = 3, oldest_audio = 4 };

const char* shed_step_name(ShedStep step);

// Process-wide: episodes in which each step was taken.
struct ShedCounters {
  std::array<std::atomic<uint64_t>, 5> episodes{};  // index: ShedStep
};

class LoadShedder {
 public:
  static constexpr int64_t kStepMs[4] = {1000, 2000, 3000, 0};  // steps 1-3; step 4 is the full inbox
  static constexpr int64_t kCaughtUpMs = 300;

  // The audio waiting for the worker (`behind_ms`), now. Returns the step to
  // apply (the highest one reached in this episode); `newly` is set when a
  // step was taken for the first time in the episode, for the caller to log.
  ShedStep update(int64_t behind_ms, ShedStep* newly = nullptr);
  // Audio was dropped at the full inbox (step 4).
  ShedStep dropped_audio(ShedStep* newly = nullptr);
  ShedStep step() const { return step_; }
  // An episode just ended (the last update caught up).
  bool caught_up() const { return caught_up_; }

  void count_into(ShedCounters* counters) { counters_ = counters; }

 private:
  ShedStep raise(ShedStep to, ShedStep* newly);
  ShedStep step_ = ShedStep::none;
  bool caught_up_ = false;
  ShedCounters* counters_ = nullptr;
};

}  // namespace parley::session
