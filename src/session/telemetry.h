// SPDX-License-Identifier: GPL-3.0-or-later
// What live sessions measure, per session and for the whole process (every
// session, ended ones included), exported at /metrics. Lock-free: observed
// from session workers, read by the HTTP thread that serves a scrape.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/histogram.h"

namespace parley::session {

struct LiveCounters {
  std::atomic<uint64_t> audio_frames_in{0};
  std::atomic<uint64_t> audio_frames_dropped{0};   // worker fell behind: oldest dropped
  std::atomic<uint64_t> audio_frames_ignored{0};   // arrived while not ACTIVE
  std::atomic<uint64_t> sequence_gaps{0};          // frames the speaker says it sent but we never got
  std::atomic<uint64_t> utterances{0};
  std::atomic<uint64_t> translations{0};
  std::atomic<uint64_t> speech_utterances{0};      // translated speech encoded once and sent
  std::atomic<uint64_t> engine_errors{0};
  // Partial captions: words shown, and words later taken back (stability.h);
  // *_raw: the same for the unstabilised hypotheses, for comparison.
  std::atomic<uint64_t> partial_words_shown{0};
  std::atomic<uint64_t> partial_words_retracted{0};
  std::atomic<uint64_t> partial_words_shown_raw{0};
  std::atomic<uint64_t> partial_words_retracted_raw{0};
};

// Stage latencies of every utterance (seconds). "From the last frame" starts
// when the last audio frame of the utterance reached the server, which
// includes the segmenter's hangover: what a listener waits after the speaker
// stops is that plus the hangover (docs/architecture.md).
struct Telemetry {
  LiveCounters totals;
  core::Histogram stt_final;        // segmenter's end → final transcript
  core::Histogram mt;               // final transcript → translation (each language)
  core::Histogram tts_first_audio;  // translation → first synthesized audio
  core::Histogram encode;           // Opus encoding of one utterance's speech
  core::Histogram final_caption;    // last frame → source caption sent
  core::Histogram translated_caption;  // last frame → translated caption sent
  core::Histogram translated_speech;   // last frame → translated speech sent
};

}  // namespace parley::session
