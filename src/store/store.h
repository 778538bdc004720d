// SPDX-License-Identifier: GPL-3.0-or-later
// Persistence of sessions, utterances, translations and per-stage latencies,
// behind one interface (SQLite today; PostgreSQL for multi-node later).
//
// Thread-safe: every method may be called from any thread; implementations
// serialise internally. Calls may block on disk (SQLite: ~0.1 ms, seconds
// when another process holds the database locked), so they are never made
// from a network thread: the server wraps its store in an AsyncStore (writes
// queue for one writer thread) and makes reads from its blocking pool.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "session/session.h"

namespace parley::store {

struct StoredSession {
  session::SessionInfo info;
  std::string token_hash;
};

struct StageLatencies {
  // Milliseconds from the end of speech (VAD end); -1 when not reached.
  double stt_final_ms = -1;
  double mt_ms = -1;             // engine time for this language
  double tts_first_audio_ms = -1;
  double tts_ms = -1;
};

struct TranslationRow {
  std::string language;
  std::string text;
  std::string route;
  StageLatencies latencies;
};

// When one stage of an utterance finished, in milliseconds after the
// utterance's last audio frame reached the server (stages before it are
// negative). Stages: audio (first → last frame), vad_end, stt_final,
// final_sent; per language: mt_done, translation_sent, tts_first_audio,
// speech_sent. `language` is empty for the source stages.
struct StageTiming {
  std::string language;
  std::string stage;
  double ms = 0;
};

// One finished utterance with every translation made so far.
struct HistoryItem {
  int64_t seq = 0;              // per session, 1, 2, …: the order listeners see
  uint64_t utterance_id = 0;
  int64_t start_ms = 0;         // in the session's audio
  int64_t end_ms = 0;
  std::string source_text;
  int64_t created_at_ms = 0;    // wall clock
  double stt_ms = 0;            // recogniser compute
  bool from_script = false;     // script mode: shown in the script's words
  std::map<std::string, TranslationRow> translations;  // by language
  // Written by a node that took the session over, from what the bus told
  // it: fills rows the session's old node never wrote, never replaces one.
  bool fill_only = false;
  std::vector<StageTiming> timings;
};

// A participant of a conversation (conversation mode) and the session that
// carries their words: what the conversation's export needs once it has
// ended and left the server's memory.
struct ConversationMember {
  int64_t session_id = 0;
  std::string code;                        // the conversation's
  int64_t conversation_created_at_ms = 0;  // with the code, tells apart conversations that reused it
  std::string title;
  std::string participant_id;
  std::string name;
  std::string language;
  std::string token_hash;  // of the participant's token
  bool typed = false;      // their language has no recogniser here: they typed
  int64_t joined_at_ms = 0;
  int64_t left_at_ms = 0;  // 0: stayed to the end
  bool session_ended = false;  // read back only: the session's row says ENDED
};

struct StoredConversation {
  std::string code;
  std::string title;
  int64_t created_at_ms = 0;
  std::vector<ConversationMember> members;  // in joining order
  // Every participant's session has ended: the conversation is over.
  bool ended() const {
    for (const auto& m : members) {
      if (!m.session_ended) return false;
    }
    return true;
  }
};

class Store {
 public:
  virtual ~Store() = default;
  // Returns the new session's id. Keeps info.listener_key_hash.
  virtual core::Result<int64_t> create_session(const session::SessionInfo& info,
                                               const std::string& token_hash) = 0;
  virtual core::Status set_state(int64_t session_id, session::State state, int64_t at_ms) = 0;
  virtual core::Status add_utterance(int64_t session_id, const HistoryItem& item) = 0;
  virtual core::Status add_translation(int64_t session_id, int64_t seq, const TranslationRow& t) = 0;
  // The newest session that used this code.
  // (A conversation participant's session carries the conversation's code
  // in info.spec.conversation, from create_session on.)
  virtual core::Result<std::optional<StoredSession>> find_session(const std::string& code) = 0;
  // Items with seq > after_seq, oldest first, at most `limit`.
  virtual core::Result<std::vector<HistoryItem>> history(int64_t session_id, int64_t after_seq,
                                                         size_t limit) = 0;
  virtual core::Status set_metric(int64_t session_id, const std::string& key, double value) = 0;
  // Every metric set for the session, by key.
  virtual core::Result<std::map<std::string, double>> metrics(int64_t session_id) = 0;
  virtual core::Status add_timings(int64_t session_id, int64_t seq, const std::vector<StageTiming>& timings) = 0;
  // Sessions left CREATED/ACTIVE/PAUSED by a crash become ENDED; returns how many.
  virtual core::Result<int> end_interrupted_sessions(int64_t at_ms) = 0;
  // Anyone may read the session's transcript once it has ended.
  virtual core::Status set_transcript_public(int64_t session_id, bool is_public) = 0;
  // Deletes sessions that ended before at_ms, with everything said in them
  // (the retention period); returns how many.
  virtual core::Result<int> delete_ended_before(int64_t at_ms) = 0;
  // Inserts or replaces the member with m.session_id.
  virtual core::Status save_conversation_member(const ConversationMember& m) = 0;
  // The newest conversation that used this code, with every member.
  virtual core::Result<std::optional<StoredConversation>> find_conversation(const std::string& code) = 0;
  // Without I/O: whether the store is keeping up with writes. A store that
  // cannot tell says ok.
  virtual core::Status health() const { return {}; }
};

}  // namespace parley::store
