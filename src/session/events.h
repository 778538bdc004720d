// SPDX-License-Identifier: GPL-3.0-or-later
// What a live session tells its audience, as plain values. The session's
// worker makes each event once, on the node that runs the speaker's
// pipeline; every node's channels (session/channel.h) turn it into wire
// messages once for all their listeners. The bus carries events between
// nodes in the binary form below (encode/decode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "avatar/viseme.h"
#include "session/session.h"

namespace parley::session {

// A final caption in one language (the source language: text == source).
struct CaptionEvent {
  int64_t seq = 0;
  uint64_t utterance_id = 0;
  std::string language;
  std::string source;
  std::string text;
  int64_t start_ms = 0;  // in the session's audio
  int64_t end_ms = 0;
  bool from_script = false;
  // A translation made after the fact, for a language that gained its first
  // listener: sent as history.
  bool late = false;
  // How long ago its source speech ended when it was sent (-1: unknown).
  int64_t since_end_ms = -1;
  // When the final was made (wall clock, ms since the epoch; 0: unknown):
  // a conversation's pages order several sessions' finals by it. Not
  // carried between nodes (the bus's encoding is unchanged, so nodes of
  // different versions still read each other): 0 on a view.
  int64_t at_ms = 0;
};

struct PartialEvent {
  uint64_t utterance_id = 0;
  uint32_t revision = 0;
  std::string language;
  std::string source;  // the source language's partial carries itself here
  std::string text;
};

// An utterance that was opened and came to nothing.
struct DiscardEvent {
  uint64_t utterance_id = 0;
};

// A final's translated speech, encoded once.
struct SpeechEvent {
  int64_t seq = 0;
  uint64_t utterance_id = 0;
  std::string language;
  int64_t duration_ms = 0;
  int64_t since_end_ms = -1;  // as CaptionEvent's, when it was sent
  avatar::Timeline timeline;
  std::string ogg_opus;  // a complete Ogg Opus file
};

// The speech of final `seq` was skipped to catch up with the speaker.
struct SpeechSkippedEvent {
  int64_t seq = 0;
  std::string language;
};

struct StateEvent {
  State state = State::created;
};

// The last event of a session: everyone is told, then closed.
struct EndEvent {
  std::string reason;
};

using Event = std::variant<CaptionEvent, PartialEvent, DiscardEvent, SpeechEvent, SpeechSkippedEvent, StateEvent,
                           EndEvent>;

// The language an event belongs to; empty for events every language gets.
const std::string& event_language(const Event& e);

// A versioned binary encoding (little-endian lengths and integers). decode
// refuses anything it cannot read whole: bytes from the bus are checked
// like any other input.
std::string encode(const Event& e);
std::optional<Event> decode(std::string_view bytes);

// Whether the session's log keeps it (captions, state changes, the end):
// what a joiner, or a node that missed it, reads back.
bool is_kept(const Event& e);
// Whether a decoded event from another node is one a node could have sent:
// a final's number in range, a language code that is one. (The bus is
// trusted infrastructure; this keeps a corrupted or forged message from
// wedging a view, e.g. a seq near INT64_MAX.)
bool plausible(const Event& e);

// On the bus, each event travels after the fencing token of the lease its
// node held (8 bytes, little-endian).
std::string encode_fenced(int64_t fence, const Event& e);
struct Fenced {
  int64_t fence = 0;
  std::string_view event;  // into the message: decode() it
};
std::optional<Fenced> split_fenced(std::string_view message);

}  // namespace parley::session
