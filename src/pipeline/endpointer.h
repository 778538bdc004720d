// SPDX-License-Identifier: GPL-3.0-or-later
// When has the speaker finished? Decides, frame by frame, whether the open
// utterance ends in the current pause.
//
// A fixed hangover waits the same `max_silence_ms` after every stretch of
// speech. The adaptive policy ends sooner when the evidence says the
// sentence is over, and waits the full hangover only when it is weak:
//
//   - never before `min_silence_ms` of silence, always at `max_silence_ms`;
//   - at `min_silence_ms` it asks the recogniser for its hypothesis, and again
//     every 50 ms while it waits;
//   - nothing recognised yet (a short first word, or a noise): wait the full
//     hangover;
//   - the hypothesis ends with sentence punctuation (engines that punctuate):
//     end now;
//   - its last word rarely ends a sentence ("the", "and", "of", … for the
//     utterance's language): wait the full hangover;
//   - the hypothesis changed since the last look: wait 50 ms and look again;
//   - one or two words so far: wait the full hangover (a fragment, or a
//     speaker naming things slowly);
//   - otherwise end once the pause is longer than this speaker's usual pauses
//     between words (the 95th percentile of the last 64 pauses inside
//     utterances, plus 60 ms; before 8 pauses are known, `min_silence_ms`
//     plus 100 ms). A pause that ended an utterance but was over before the
//     full hangover counts as one of those pauses too, so the estimate
//     learns from its own early ends.
//
// Driven by the segmenter's thread; no I/O (the hypothesis source is the
// pipeline's recogniser, which only computes).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::pipeline {

enum class EndpointPolicy { fixed, adaptive };

struct EndpointConfig {
  EndpointPolicy policy = EndpointPolicy::adaptive;
  int min_silence_ms = 150;
  int max_silence_ms = 500;
};

// Why an utterance ended in a pause, for metrics and benchmarks.
enum class PauseEvidence {
  none,         // the full hangover passed
  punctuation,  // the hypothesis ends a sentence
  speaker_pause // the pause is longer than the speaker's pauses between words
};

class HypothesisSource {
 public:
  virtual ~HypothesisSource() = default;
  // The recogniser's best guess for the open utterance, words separated by
  // spaces; empty when it has heard none.
  virtual std::string hypothesis_now() = 0;
};

class Endpointer {
 public:
  // `source` may be null (no recogniser): speaker pauses are the only evidence.
  Endpointer(EndpointConfig config, std::string language, HypothesisSource* source);

  void begin_utterance();
  // A frame between utterances. A pause that ended an utterance but was
  // shorter than the full hangover joins the speaker's pauses: a speaker
  // who pauses that long in mid-flow is given longer from then on.
  void idle_frame(bool voiced);
  // One 10 ms frame of the open utterance. True when the utterance ends
  // after this frame; `evidence()` then says why. `noisy`: the room's noise
  // is within 30 dB of the voice (noise_floor.h), where a dip in the voice
  // can pass for a pause: the speaker-pause rule then waits at least halfway
  // between the two bounds.
  bool end_after_frame(bool voiced, bool noisy = false);
  PauseEvidence evidence() const { return evidence_; }
  // The speaker's usual longest pause between words (ms); 0 until 8 are known.
  int usual_pause_ms() const;

  // True when `word` (lower case) rarely ends a sentence in `language`.
  static bool continues_sentence(const std::string& language, const std::string& word);

 private:
  bool decide();

  EndpointConfig c_;
  std::string language_;
  HypothesisSource* source_;
  int silence_frames_ = 0;
  bool noisy_ = false;
  int next_look_frames_ = 0;   // silence at which to ask the recogniser again
  std::string last_hypothesis_;
  bool looked_ = false;
  PauseEvidence evidence_ = PauseEvidence::none;
  std::array<int, 64> pauses_{};  // recent pauses inside utterances, in frames
  size_t n_pauses_ = 0;
  int pause_after_end_frames_ = -1;  // silence since the last end; -1 when not counting
  void remember_pause(int frames);
};

}  // namespace parley::pipeline
