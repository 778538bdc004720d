// SPDX-License-Identifier: GPL-3.0-or-later
// Sessions on a test server: create, control, join as speaker or listener.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "support/ws_client.h"

namespace parley::testing {

// A fresh database path under the temp directory, for one test.
std::string temp_db(const std::string& name);

struct Created {
  std::string code, token, listener_key;
};

// POST /api/sessions (expects 201); `api_key` is sent as the bearer.
Created create_session(unsigned short port,
                       const nlohmann::json& body = {{"name", "Test"}, {"sourceLanguage", "en"}},
                       const std::string& api_key = "");
// POST /api/sessions/<code>/<action> with the speaker token (or `token`); the HTTP status.
int control(unsigned short port, const Created& s, const std::string& action, const std::string& token = "");
// Joins as the session's speaker (16 kHz) and returns whether the welcome came.
bool join_speaker(WsClient& c, const Created& s);
// `speech`: the join's speech mode, or empty for the server's default.
WsClient& join_listener(WsClient& c, const std::string& code, const std::string& lang, int64_t since = 0,
                        const std::string& speech = "");

// LibriVox recording `index` (pocketsphinx-testdata) as 16 kHz PCM16, with
// `trailing_silence_s` of silence after it.
std::vector<int16_t> recording_pcm(size_t index, double trailing_silence_s);
// Streams PCM as 20 ms speaker frames at real-time pace, numbering them from `seq`.
void stream_real_time(WsClient& speaker, const std::vector<int16_t>& pcm, uint32_t& seq);

}  // namespace parley::testing
