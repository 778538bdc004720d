// SPDX-License-Identifier: GPL-3.0-or-later
// The one place that knows every engine: loads the engines a command asks for
// by name and wires them into pipeline::Engines. A new engine is a folder
// under src/engines/<kind>/ plus one entry in the table in engine_set.cpp.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/pipeline.h"

namespace parley::app {

struct EngineOptions {
  std::string vad = "webrtc";
  std::string stt = "pocketsphinx";
  std::string mt = "apertium";
  std::string tts = "espeak";
  bool need_speech_in = true;   // VAD + STT
  bool need_speech_out = true;  // TTS
  size_t mt_cache_entries = 10000;
  // Speech decoders alive at once (speakers mid-utterance together).
  size_t stt_decoders = 8;
  // Recorded speech: decode for accuracy rather than for the latency of
  // each final (every utterance decoded twice, second search pass on).
  bool offline_decoding = false;
};

core::Result<pipeline::Engines> load_engines(const EngineOptions& options);

// Names accepted for each kind, for --help and errors.
std::vector<std::string> engine_names(const std::string& kind);

}  // namespace parley::app
