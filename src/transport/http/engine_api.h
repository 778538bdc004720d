// SPDX-License-Identifier: GPL-3.0-or-later
// parley's embedded engines served over the protocols other programs
// already speak, so any OpenAI or LibreTranslate client — or another parley
// node's remote adapters — can use them:
//
//   POST /v1/audio/transcriptions  OpenAI-compatible speech to text
//                                  (multipart: file, model, language,
//                                  response_format json|text|srt|vtt|verbose_json,
//                                  timestamp_granularities[])
//   POST /v1/audio/speech          OpenAI-compatible text to speech (JSON:
//                                  model, input, voice, response_format
//                                  mp3|opus|flac|wav|pcm, speed)
//   GET  /v1/models                what the two above accept as `model`
//   POST /translate                LibreTranslate-compatible translation
//                                  (JSON or form: q, source, target, format, api_key)
//   GET  /languages                LibreTranslate-compatible language list
//
// Each call blocks for the engines' compute time (a recording's
// transcription can take seconds), so the server runs them on
// ApiContext::engine_pool, never on a network thread. Errors follow each
// API's own shape: {"error": {"message", "type", "code"}} for OpenAI routes,
// {"error": "..."} for LibreTranslate routes.
#pragma once

#include <string_view>

#include "transport/http/api.h"

namespace parley::transport {

// True for the paths above (whatever the method).
bool is_engine_api_target(std::string_view path);
// True for the routes that take an upload larger than the usual body limit.
bool is_engine_upload_target(std::string_view path);

// The key check of the OpenAI routes, from the headers alone: made before
// an upload is read. LibreTranslate routes (key in the body) pass here.
core::Status check_engine_bearer(const ApiContext& ctx, const Request& req, const Client& client);
// An error in the shape of the route's own API.
Response engine_refusal(const Request& req, const core::Status& status);

// Answers one engine API request; blocks for the engines' compute time.
Response handle_engine_request(const ApiContext& ctx, const Request& req, const Client& client);

// The answer when ApiContext::engine_pool refused the request (all busy).
Response engine_busy_response(const ApiContext& ctx, const Request& req);

}  // namespace parley::transport
