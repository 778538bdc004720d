// SPDX-License-Identifier: GPL-3.0-or-later
// What live sessions measure, per session and for the whole process (every
// session, ended ones included), exported at /metrics. Lock-free but for
// finding a language's pace row: observed from session workers, read by the
// HTTP thread that serves a scrape.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/histogram.h"
#include "session/load_shedding.h"

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
// Translated speech against the speaker, per target language
// (pipeline/pace.h): the server's model of the listeners' playback clock,
// and what listener pages report of their own.
struct LanguagePace {
  core::Histogram wait;          // source speech ended → a listener starts hearing its translation
  core::Histogram end_lag;       // source speech ended → heard in full
  core::Histogram reported_lag;  // the same end lag, as listener pages measured it
  std::atomic<uint64_t> spoken{0};
  std::atomic<uint64_t> sped_up{0};   // spoken faster than the voice's own rate
  std::atomic<uint64_t> trimmed{0};   // silence at the edges cut
  std::atomic<uint64_t> skipped{0};   // speech skipped to catch up (the caption went out)
};

// Rows of measures by a label (a language, a direction), created on first
// use. Labels come from a closed set (engines::language); past 64 of them,
// one shared "other" row.
template <class Row>
class LabelledRows {
 public:
  Row& of(const std::string& label) {
    std::lock_guard lock(mu_);
    auto it = rows_.find(label);
    if (it == rows_.end()) {
      const std::string key = rows_.size() < 64 ? label : "other";
      it = rows_.try_emplace(key, std::make_unique<Row>()).first;
    }
    return *it->second;
  }
  void for_each(const std::function<void(const std::string&, const Row&)>& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [label, row] : rows_) f(label, *row);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Row>> rows_;
};
using PaceTelemetry = LabelledRows<LanguagePace>;  // by target language

// One direction of translation (source → target language), measured from
// the true end of the source speech (or the typed caption's arrival): what
// a conversation's partner waits for the caption, and for the speech.
struct DirectionLatency {
  core::Histogram caption;  // → the translated caption sent
  core::Histogram speech;   // → the translated speech sent (first audio: each utterance's speech goes whole)
};
// Rows labelled "<source>><target>", e.g. "en>es" (direction_label).
using DirectionTelemetry = LabelledRows<DirectionLatency>;
inline std::string direction_label(const std::string& source, const std::string& target) {
  return source + ">" + target;
}

// How utterances ended (pipeline/segmenter.h): a pause the endpointer
// judged final, the full hangover, a forced cut, the end of the stream, a
// typed caption.
struct UtteranceEnds {
  std::atomic<uint64_t> pause{0}, hangover{0}, max_length{0}, end{0}, typed{0};
  void count(const std::string& reason) {
    auto& c = reason == "pause" ? pause : reason == "hangover" ? hangover : reason == "max_length" ? max_length
            : reason == "typed" ? typed : end;
    c.fetch_add(1, std::memory_order_relaxed);
  }
};

// Load shed by session workers that fell behind real time (load_shedding.h).
struct ShedTelemetry : ShedCounters {
  std::atomic<uint64_t> gaps{0};     // gaps marked in transcripts
  std::atomic<uint64_t> lost_ms{0};  // audio dropped at full inboxes
};

// Several nodes: sessions moving between them (docs/scaling.md).
struct NodesTelemetry {
  std::atomic<uint64_t> taken_over{0};   // this node took a session whose node stopped renewing
  std::atomic<uint64_t> handed_over{0};  // a session left here for the node its speaker joined
  std::atomic<uint64_t> leases_lost{0};  // renewal refused: another node runs the session now
};

struct Telemetry {
  LiveCounters totals;
  NodesTelemetry nodes;
  core::Histogram stt_final;        // segmenter's end → final transcript
  core::Histogram mt;               // final transcript → translation (each language)
  core::Histogram tts_first_audio;  // translation → first synthesized audio
  core::Histogram encode;           // Opus encoding of one utterance's speech
  core::Histogram final_caption;    // last frame → source caption sent
  core::Histogram translated_caption;  // last frame → translated caption sent
  core::Histogram translated_speech;   // last frame → translated speech sent
  PaceTelemetry pace;
  DirectionTelemetry directions;
  UtteranceEnds ends;
  ShedTelemetry shed;
};

}  // namespace parley::session
