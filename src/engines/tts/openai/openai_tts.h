// SPDX-License-Identifier: GPL-3.0-or-later
// Speech from an OpenAI-compatible server (POST /v1/audio/speech, WAV
// answers): Kokoro, Piper or vLLM speech servers, or another parley's engine
// API. Calls go through a remote::Endpoint (own workers, deadline, retries,
// circuit breaker). Such servers give no phoneme timings, so espeak-ng's
// phonemes of the same text are fitted to the returned audio (alignment.h)
// for the avatar. A failed call is spoken by the fallback model the chain
// names, and counted.
#pragma once

#include <memory>

#include "core/status.h"
#include "engines/registry.h"
#include "engines/tts/tts.h"

namespace parley::engines::tts {

// Settings: url (required, the API root such as http://gpu:8880/v1),
// languages= (required: what the server speaks), voices= (language:voice
// pairs joined by '+', e.g. es:ef_dora+en:af_heart; default: the language
// code, which parley's engine API takes), model (default tts-1), rate-hz
// (the rate speech is delivered at, default 22050), key-env, timeout-ms
// (default 8000), retries, breaker-failures, breaker-cooldown-ms, workers.
core::Result<std::shared_ptr<const Model>> make_openai_tts(const Settings& settings);

}  // namespace parley::engines::tts
