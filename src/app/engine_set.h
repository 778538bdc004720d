// SPDX-License-Identifier: GPL-3.0-or-later
// The one place that knows every engine: a registry table per kind
// (engines/registry.h) and the wiring of the chosen engines into
// pipeline::Engines. A new engine is a folder under src/engines/<kind>/
// plus one row in the tables in engine_set.cpp.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/pipeline.h"

namespace parley::app {

struct EngineOptions {
  // Engine lists per kind, in priority order (syntax: engines/registry.h),
  // e.g. stt = "pocketsphinx(decoders=4)".
  std::string vad = "silero";
  std::string stt = "pocketsphinx";
  std::string mt = "apertium";
  std::string tts = "espeak";
  bool need_speech_in = true;   // VAD + STT
  bool need_speech_out = true;  // TTS
  size_t mt_cache_entries = 10000;
  // Speech decoders alive at once (speakers mid-utterance together); the
  // pocketsphinx entry's decoders= setting overrides it.
  size_t stt_decoders = 8;
  // Recorded speech: decode for accuracy rather than for the latency of
  // each final (every utterance decoded twice, second search pass on).
  bool offline_decoding = false;
};

core::Result<pipeline::Engines> load_engines(const EngineOptions& options);

// One line per registered engine of `kind` (vad, stt, mt, tts): its name,
// settings and summary, for --help and errors.
std::vector<std::string> describe_engines(const std::string& kind);

// --noise-floor auto|on|off: whether the segmenter gates the detector's
// "voice" on the level standing out of the room's noise floor. auto: only
// for WebRTC's detector, which takes steady noise for voice; a learned
// detector (Silero) tells them apart itself, and the gate would only cut
// words that dip under the noise (docs/benchmarks.md, "Keeping pace").
// Fails on any other value.
core::Result<bool> follow_noise_floor(const std::string& setting, const engines::vad::Model* vad);

// --hangover-ms auto (`max_ms` 0): the longest pause inside an utterance for
// the detector: 350 ms, or 500 ms for WebRTC's, whose "voice" ends sooner
// and needs the longer pause not to split sentences (docs/benchmarks.md).
// Given values are kept.
int hangover_ms_for(int max_ms, const engines::vad::Model* vad);

}  // namespace parley::app
