// SPDX-License-Identifier: GPL-3.0-or-later
// Recognition by an OpenAI-compatible server (POST /v1/audio/transcriptions):
// whisper.cpp's server, faster-whisper servers, vLLM, or another parley's
// engine API. Finals come from each utterance's whole audio (verbose_json
// with word times where the server gives them). Partials come from
// re-transcribing the growing utterance every partial-interval-ms, in the
// background (the pipeline's LocalAgreement then steadies them); a stream
// whose server answers slower than the interval three times in a row stops
// asking, says so in the log and counts it in /metrics. Calls go through a remote::Endpoint (own
// workers, deadline, retries, circuit breaker); a failed final is decoded
// from the same audio by the fallback model the chain names, and counted.
#pragma once

#include <memory>

#include "core/status.h"
#include "engines/registry.h"
#include "engines/stt/stt.h"

namespace parley::engines::stt {

// Settings: url (required, the API root such as http://gpu:8080/v1),
// languages= (required: what the server recognises), model (default
// whisper-1), partial-interval-ms (default 1000; 0: no partials), key-env,
// timeout-ms (default 8000), retries, breaker-failures,
// breaker-cooldown-ms, workers.
core::Result<std::shared_ptr<const Model>> make_openai_stt(const Settings& settings);

}  // namespace parley::engines::stt
