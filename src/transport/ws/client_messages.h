// SPDX-License-Identifier: GPL-3.0-or-later
// What WebSocket clients send (docs/protocol.md), parsed from untrusted bytes
// into native types at the edge: the join, the messages after it, and binary
// audio frames. No I/O and no session state here: WsSession decides what a
// parsed message means. Every parser takes any bytes and never throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "session/session.h"
#include "session/wire.h"

namespace parley::transport::ws {

// A refusal to send back: the wire error code ("bad_message", …), the
// message, and the close reason when the connection must be closed.
struct Refusal {
  std::string code;
  std::string message;
  std::string close_reason;  // empty: the connection stays open
};

struct SpeakerJoin {
  std::string code, token;
  int sample_rate_hz = 16000;
  bool takeover = false;
  std::optional<uint64_t> resume;  // the speakerGeneration this page held (links.h)
};

struct ListenerJoin {
  std::string code;
  std::string language;  // normalised ("pt-BR" → "pt")
  int64_t since = 0;
  std::optional<session::wire::SpeechMode> speech;  // nullopt: the server's default
};

// A conversation's participant (docs/protocol.md, "Conversations"), who
// joined over REST and connects with their id and token.
struct ParticipantJoin {
  std::string code, participant, token;
  int sample_rate_hz = 16000;
  std::map<std::string, int64_t> since;  // finals already shown, by participant id
};

using Join = std::variant<SpeakerJoin, ListenerJoin, ParticipantJoin, Refusal>;
// The first message. Refusals of a join always close the connection.
Join parse_join(std::string_view text);

struct Ping {};
struct SetSpeechMode {
  session::wire::SpeechMode mode;
};
struct Control {
  session::Action action;
};
struct TypedText {
  std::string text;
};
// A listener page played the speech of final `seq` to its end, `lag_ms`
// after the source speech ended. In a conversation, `from` says whose.
struct PlaybackReport {
  int64_t seq = 0;
  int64_t lag_ms = 0;
  std::string from;
};
// A participant's page started or stopped playing translated speech (echo).
struct Playing {
  bool on = false;
};
// A participant switches one-speaks-at-a-time on or off.
struct HalfDuplex {
  bool on = false;
};
// A participant leaves the conversation for good.
struct Leave {};
using Message =
    std::variant<Ping, SetSpeechMode, Control, TypedText, PlaybackReport, Playing, HalfDuplex, Leave, Refusal>;
// A text message after the join. Whether the sender's role may send it is
// WsSession's decision; the type names are the protocol's.
Message parse_message(std::string_view text);

struct AudioFrame {
  uint32_t seq = 0;
  std::vector<int16_t> pcm;
};
// A binary speaker frame: uint32 little-endian sequence number, then PCM16
// little-endian samples. `into` is reused to avoid an allocation per frame.
std::optional<Refusal> parse_audio_frame(std::string_view bytes, AudioFrame& into);

}  // namespace parley::transport::ws
