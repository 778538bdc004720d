// SPDX-License-Identifier: GPL-3.0-or-later
// A session's identity and its state machine, free of threads and I/O.
//
//   CREATED --start--> ACTIVE --pause--> PAUSED --resume--> ACTIVE
//   any state but ENDED --end--> ENDED
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::session {

enum class State { created, active, paused, ended };
enum class Action { start, pause, resume, end };

// "CREATED", "ACTIVE", "PAUSED", "ENDED" (the wire and store spelling).
const char* state_name(State s);
std::optional<State> parse_state(std::string_view s);
std::optional<Action> parse_action(std::string_view s);
const char* action_name(Action a);

// The state after `a`, or failed_precondition saying why not.
core::Result<State> transition(State from, Action a);

// What a speaker chose when creating a session.
struct SessionSpec {
  std::string name;
  std::string source_language = "en";
  std::string avatar = "ada";
  std::vector<std::string> default_targets;
  // Strong language masked in captions and left out of speech (off by
  // default: captions as said).
  bool hide_strong_words = false;
  // The speaker types rather than speaks: a language with no recogniser
  // here (a conversation's participant). Audio is refused.
  bool typed = false;
  // The conversation this session is one participant's voice in (a code);
  // empty for a talk. Such a session is private to its conversation: no
  // listener link, WebSocket join or stream reaches it by its own code.
  std::string conversation{};
};

struct SessionInfo {
  int64_t id = 0;            // store key
  std::string code;          // 6 digits, unique among live sessions
  SessionSpec spec;
  State state = State::created;
  int64_t created_at_ms = 0;  // wall clock, ms since the epoch
  int64_t started_at_ms = 0;  // first ACTIVE; 0 before
  int64_t ended_at_ms = 0;
  // Once the session has ended, its history and transcripts are read with
  // the listener link's key (its hash is kept), the speaker token or an
  // operator key, unless the transcript was made public.
  std::string listener_key_hash;
  bool transcript_public = false;
};

// Six random decimal digits, first digit not 0.
std::string random_code();
// True for exactly six decimal digits.
bool is_valid_code(std::string_view code);
// 256 random bits, hex.
std::string random_token();
// SHA-256 of the token, hex: what the store keeps.
std::string hash_token(std::string_view token);
// Constant-time comparison of two hex digests.
bool digests_equal(std::string_view a, std::string_view b);

int64_t wall_clock_ms();

// One person in a conversation (conversation.h).
struct ParticipantInfo {
  std::string id;  // 8 hex digits, stable for the conversation
  std::string name;
  std::string language;
  bool typed = false;   // no recogniser for the language here: they type
  bool online = false;  // a connection is attached
  bool left = false;    // said goodbye for good
  int64_t joined_at_ms = 0;
  int64_t left_at_ms = 0;  // wall clock; 0 while in
};

}  // namespace parley::session
