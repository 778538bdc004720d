// SPDX-License-Identifier: GPL-3.0-or-later
// Keeping translated speech in step with the speaker, one language at a time.
//
// Translations run longer than their source (Spanish and French by 15-25 %),
// so a speaker who hardly pauses builds a backlog: each listener hears the
// talk later and later. The controller models the listener's playback clock
// (a page plays each utterance's speech as soon as it arrives, or right
// after the one before) and measures two lags per utterance, after the end
// of its source speech:
//
//   - the wait: when the listener starts hearing its translation. On time
//     it is the pipeline's work; a backlog adds to it, utterance after
//     utterance. This is the drift the controller keeps under `budget_ms`;
//   - the end lag: when the listener has heard all of it, which adds the
//     speech's own length (no pacing can make a ten-second sentence heard
//     sooner than its translation takes to say, at the fastest rate).
//
// In this order, as the wait grows:
//
//   1. trim the silence at the edges of the speech (the pause between two
//      utterances) down to `min_edge_ms`, as soon as any backlog exists;
//   2. raise the speech rate in proportion to the wait, from 1 at a third of
//      the budget to `max_rate` at the whole budget (1.4: about 245 words a
//      minute for espeak-ng's 175, still easy to follow); when the wait
//      falls, the rate comes back down by at most `relax_step` an utterance;
//   3. when the wait would pass the budget, skip this utterance's speech
//      (its caption is already on screen; the listener is told), so the
//      next one is heard on time.
//
// Captions are never touched. Times are milliseconds on the source stream's
// clock (the speaker's audio position; in a live session it advances with
// the wall clock), passed in by the caller, so tests run on a simulated
// clock. Driven by one thread; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace parley::pipeline {

struct PaceConfig {
  bool enabled = true;
  int64_t budget_ms = 3000;
  double max_rate = 1.4;
  double relax_step = 0.1;
  int min_edge_ms = 40;
};

struct SpeechPlan {
  bool speak = true;
  double rate = 1.0;
  // Silence to keep at the start and end of the speech; -1: keep it all.
  int edge_ms = -1;
};

class PaceController {
 public:
  explicit PaceController(PaceConfig config) : c_(config) {}

  // Plans an utterance's speech. `now_ms`: when synthesis starts;
  // `source_end_ms`: when its source speech ended.
  SpeechPlan plan(int64_t now_ms, int64_t source_end_ms);
  // The speech as made: `duration_ms` long (at the planned rate, edges
  // trimmed), ready at `ready_ms`.
  struct Lag {
    int64_t wait_ms;  // its start, after the end of the source speech
    int64_t end_ms;   // its end, after the end of the source speech
  };
  Lag scheduled(int64_t ready_ms, int64_t source_end_ms, int64_t duration_ms);
  // `ms` of listener time passed outside the stream's clock (a pause, lost
  // audio): that much of the queued speech has played.
  void skip_time(int64_t ms) { playback_end_ms_ -= ms; }

  // Speech sent but not yet heard, at `now_ms`.
  int64_t backlog_ms(int64_t now_ms) const { return playback_end_ms_ > now_ms ? playback_end_ms_ - now_ms : 0; }
  double rate() const { return rate_; }

 private:
  PaceConfig c_;
  int64_t playback_end_ms_ = 0;  // when the listener finishes what has been sent
  double rate_ = 1.0;
};

// Trims the silence at the start and end of one utterance's speech as it
// streams out in chunks, keeping `keep_samples` of it at each edge. Quiet
// samples at the end of a chunk are held back until a louder one follows
// (they were a pause inside the speech) or the speech ends (they were its
// tail). Event positions (phonemes, words) move with the audio.
class EdgeTrimmer {
 public:
  explicit EdgeTrimmer(int64_t keep_samples, float threshold = 1e-3F)
      : keep_(keep_samples), threshold_(threshold) {}
  // Appends to `out` what can be sent now.
  void push(std::span<const float> in, std::vector<float>& out);
  // The end of the speech: appends what is kept of the tail.
  void finish(std::vector<float>& out);
  // Where a sample of the engine's audio lands in the trimmed audio.
  int64_t map(int64_t engine_sample) const { return engine_sample > dropped_lead_ ? engine_sample - dropped_lead_ : 0; }
  int64_t n_trimmed() const { return dropped_lead_ + dropped_tail_; }

 private:
  int64_t keep_;
  float threshold_;
  bool started_ = false;
  std::vector<float> lead_;  // quiet samples before the first sound (the last keep_ of them)
  std::vector<float> held_;  // a quiet run after the last sound so far
  int64_t dropped_lead_ = 0;
  int64_t dropped_tail_ = 0;
};

}  // namespace parley::pipeline
