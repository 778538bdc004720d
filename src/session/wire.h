// SPDX-License-Identifier: GPL-3.0-or-later
// The WebSocket wire format of session events (protocol version 1; see
// docs/protocol.md). Outgoing messages are built here, once per event and
// language, and shared by every recipient; JSON stays in this file and in
// the transport layer that parses incoming messages.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "avatar/viseme.h"
#include "fanout/message.h"
#include "session/events.h"
#include "session/session.h"
#include "store/store.h"

namespace parley::session::wire {

inline constexpr int kProtocolVersion = 1;

// Binary speech messages (docs/protocol.md), big-endian:
//   0: 'P'  1: kind (1 = speech)  2: header version (2)  3: 0
//   4: seq (uint32)  8: utterance id (uint32)  12: duration in ms (uint32)
//   16: viseme timeline sample rate (uint32)  20: entry count N (uint16)  22: 0
//   24: N entries of 4 bytes: viseme id (uint8), first sample (uint24)
//   24 + 4N: the utterance as a complete Ogg Opus file
inline constexpr size_t kSpeechFixedHeaderBytes = 24;
inline constexpr uint8_t kSpeechHeaderVersion = 2;

struct SpeechMessage {
  int64_t seq = 0;
  uint64_t utterance_id = 0;
  int64_t duration_ms = 0;
  avatar::Timeline timeline;
  std::string_view ogg;  // into the parsed bytes
};
// nullopt when the bytes are not a speech message this version can read.
std::optional<SpeechMessage> parse_speech(std::string_view bytes);

// How much of each speech message a listener wants (join field "speech", or
// later {"type":"speech","mode":…}): all of it; the header and viseme
// timeline without the audio (a listener that hears the audio over WebRTC
// still needs the timeline for the avatar); or none.
enum class SpeechMode { full, timeline, none };
std::optional<SpeechMode> parse_speech_mode(std::string_view name);
// The speech message `m` cut after its timeline: the same header, an empty
// Ogg part. nullptr when `m` is not a speech message.
fanout::MessagePtr speech_timeline_only(const fanout::Message& m);

struct Welcome {
  std::string role;  // "speaker" | "listener"
  SessionInfo info;
  std::string language;  // listener's language
  int64_t last_seq = 0;
  // Finals after the listener's `since` and before this seq were not
  // replayed (the replay is bounded): the client fetches them over REST.
  // 0: everything after `since` follows on the socket.
  int64_t replay_from_seq = 0;
  int64_t since = 0;
  uint64_t speaker_generation = 0;  // a speaker's: what it resumes with (links.h); 0: none
};

fanout::MessagePtr welcome(const Welcome& w);
fanout::MessagePtr state(State s);
fanout::MessagePtr session_ended(const std::string& reason);
// retry_after_s > 0 adds "retryAfterS" (rate limits).
fanout::MessagePtr error(const std::string& code, const std::string& message, int retry_after_s = 0);
fanout::MessagePtr partial(uint64_t utterance_id, uint32_t revision, const std::string& language,
                           const std::string& source, const std::string& text);
fanout::MessagePtr discard(uint64_t utterance_id);
// A final caption. A live one (not from_history) carries "sinceEndMs" when
// known: how long ago its source speech ended, so a page can measure when it
// has played the translation (docs/protocol.md).
fanout::MessagePtr final_caption(const CaptionEvent& caption, bool from_history);
// Script mode, to the speaker: the script sentence they reached with final `seq`.
fanout::MessagePtr script_position(int64_t sentence, int64_t seq);
// The translated speech of final `seq` was skipped to catch up with the speaker.
fanout::MessagePtr speech_skipped(int64_t seq, const std::string& language);
fanout::MessagePtr listeners(const std::map<std::string, size_t>& by_language);
// A speech message; its without_audio is the timeline-only variant.
// Conversation mode (docs/protocol.md, "Conversations"). The welcome of a
// participant's connection: who they are (with their token when they just
// joined), and everyone in the conversation.
struct ConversationWelcome {
  std::string code;
  std::string title;
  ParticipantInfo you;
  std::string token;  // empty when rejoining
  std::vector<ParticipantInfo> participants;
  bool half_duplex = false;
  std::string floor;  // the holder's id, or empty
};
fanout::MessagePtr conversation_welcome(const ConversationWelcome& w);
// A participant as every message and the REST API show them.
nlohmann::json participant_json(const ParticipantInfo& p);
// Someone joined (or came back: `returning`).
fanout::MessagePtr partner_joined(const ParticipantInfo& p, bool returning);
// Someone's connection went (or they left for good: `for_good`).
fanout::MessagePtr partner_left(const ParticipantInfo& p, bool for_good);
// A participant started or stopped talking (their utterance opened or closed).
fanout::MessagePtr speaking(const std::string& participant, bool talking);
// Who holds the floor (empty: nobody), and whether one speaks at a time.
fanout::MessagePtr floor(const std::string& holder, bool half_duplex);
fanout::MessagePtr conversation_ended(const std::string& reason);

fanout::MessagePtr speech(int64_t seq, uint64_t utterance_id, int64_t duration_ms,
                          const avatar::Timeline& timeline, const std::string& ogg_opus);

}  // namespace parley::session::wire
