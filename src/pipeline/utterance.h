// SPDX-License-Identifier: GPL-3.0-or-later
// What the pipeline produces per utterance, with the stage timestamps that
// travel with it. Timestamps are core::now_us() values (monotonic µs; 0 = not
// reached); *_ms durations are compute time spent in one engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engines/stt/stt.h"
#include "pipeline/stability.h"

namespace parley::pipeline {

struct UtteranceTimes {
  int64_t first_audio_us = 0;  // first sample of the utterance entered the pipeline
  int64_t last_audio_us = 0;   // last sample entered
  int64_t vad_end_us = 0;      // the segmenter declared the end
  int64_t stt_final_us = 0;    // the final hypothesis was ready
  double stt_ms = 0;           // recogniser compute for this utterance
};

struct Utterance {
  uint64_t id = 0;          // 1, 2, … per pipeline
  int64_t start_ms = 0;     // position in the source stream
  int64_t end_ms = 0;
  std::string words;        // the recogniser's words, as it gave them
  std::string text;         // as a sentence; empty when nothing was recognised
  std::vector<engines::stt::Word> word_times;  // relative to the stream start
  UtteranceTimes times;
  // How it ended: "pause" (the endpointer's evidence), "hangover" (the full
  // silence), "max_length" (a forced cut), "end" (the stream ended), "typed".
  std::string end_reason;
  // Partial-caption stability of this utterance: as shown to listeners, and
  // as the raw hypotheses would have been (for comparison).
  RetractionCount partials_shown;
  RetractionCount partials_raw;
  // Script mode: the text is (partly) the script's own words, and the
  // script sentence the speaker reached with it (-1: no script).
  bool from_script = false;
  int64_t script_sentence = -1;
};

// Where the source speech of `u` ended, in stream milliseconds: its last
// word's end when the recogniser gave times, else where it was closed.
inline int64_t source_end_ms(const Utterance& u) {
  return u.word_times.empty() ? u.end_ms : u.word_times.back().end_ms;
}

struct TargetTimes {
  int64_t mt_done_us = 0;
  int64_t tts_first_audio_us = 0;
  int64_t tts_done_us = 0;
  double mt_ms = 0;   // 0 on a cache hit
  double tts_ms = 0;
};

// How the pace controller (pace.h) had this language's speech made.
struct SpeechPace {
  double rate = 1.0;          // speaking rate used
  int64_t trimmed_ms = 0;     // silence trimmed at the edges
  int64_t wait_ms = -1;       // source end → the listener starts hearing it; -1: no speech
  int64_t end_lag_ms = -1;    // source end → the listener has heard it all
};

struct TranslationResult {
  std::string language;
  std::string text;    // as captions show it
  std::string spoken;  // what the voice says (the text less strong words, when the session hides them)
  std::string route;  // "en→es→fr"
  bool cache_hit = false;
  size_t n_glossary_terms = 0;
  TargetTimes times;
  SpeechPace pace;
};

}  // namespace parley::pipeline
