// SPDX-License-Identifier: GPL-3.0-or-later
// Conversation mode: two to eight people, each speaking (or typing) their
// own language and reading and hearing everyone else in it.
//
// A conversation is built from ordinary live sessions, one per
// participant, whose source language is that participant's: the pipeline,
// the per-language channels, history, backfill and the store are the
// talk's own. A participant's connection is the speaker of their session
// and a listener, in their language, of every other participant's session
// (transport/ws does the wiring). What this file adds is the people: who
// is in, their names and tokens, who is connected, who is talking, the
// floor when one speaks at a time, and echo suppression: a participant's
// microphone is not recognised while their own device plays translated
// speech (plus a margin), so nobody's speech comes back as theirs.
//
// Threads: every public method is thread-safe and never blocks on engines
// or disk (network threads call them). Members are told from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "fanout/message.h"
#include "session/live_session.h"
#include "store/store.h"

namespace parley::session {

class Registry;

// A participant's connection (a WebSocket), told what happens in the
// conversation. Called from any thread, possibly under the conversation's
// lock: must not block or call back into the conversation.
class ConversationMember {
 public:
  virtual ~ConversationMember() = default;
  // Someone joined for the first time: this connection listens to them.
  virtual void on_participant(const ParticipantInfo& p, std::shared_ptr<LiveSession> session) = 0;
  // An event for every participant, built once (partnerJoined, partnerLeft,
  // speaking, floor).
  virtual void on_conversation_event(fanout::MessagePtr event) = 0;
  // The conversation ended: close with `reason`.
  virtual void on_conversation_end(const std::string& reason) = 0;
  // Another connection of the same participant took this one's place.
  virtual void on_replaced() = 0;
};

struct ConversationOptions {
  std::string title;
  // One speaks at a time: whoever starts first holds the floor until their
  // final (plus a margin); the others' microphones are not recognised
  // meanwhile.
  bool half_duplex = false;
};

// What a conversation counts (process-wide, for /metrics).
struct ConversationCounters {
  std::atomic<uint64_t> created{0};
  std::atomic<uint64_t> participants_joined{0};
  std::atomic<uint64_t> echo_muted_ms{0};   // microphone audio not recognised while its device played speech
  std::atomic<uint64_t> floor_muted_ms{0};  // … while another participant held the floor
};

class Conversation final : public std::enable_shared_from_this<Conversation> {
 public:
  static constexpr size_t kMaxParticipants = 8;    // present at once
  static constexpr size_t kMaxEverJoined = 32;     // including those who left
  static constexpr size_t kMaxNameBytes = 60;
  // Audio still not recognised after a device reports its playback ended:
  // the room's echo and the device's output latency.
  static constexpr int64_t kEchoMarginMs = 400;
  // A playback "start" never followed by an "end" stops counting after this.
  static constexpr int64_t kMaxPlaybackMs = 60'000;
  // The floor is kept this long after its holder's final, and held at most
  // kMaxFloorMs (a forced cut of an endless utterance).
  static constexpr int64_t kFloorMarginMs = 600;
  static constexpr int64_t kMaxFloorMs = 30'000;

  Conversation(std::string code, ConversationOptions options, Registry& sessions,
               std::shared_ptr<ConversationCounters> counters);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  const std::string& code() const { return code_; }
  const ConversationOptions& options() const { return options_; }
  int64_t created_at_ms() const { return created_at_ms_; }

  struct Joined {
    ParticipantInfo participant;
    std::string token;  // shown once, to the participant: it rejoins with it
    std::shared_ptr<LiveSession> session;
  };
  // A new participant. invalid_argument for an empty or unknown language
  // or a language nobody else can be translated from or into;
  // resource_exhausted when full; failed_precondition once ended.
  core::Result<Joined> join(const std::string& name, const std::string& language);
  // The same participant back (a reload, a lost network): their token.
  // permission_denied for a wrong one; failed_precondition after they left.
  core::Result<Joined> rejoin(const std::string& id, const std::string& token);

  // Attaches a participant's connection (one at a time: the previous one is
  // told on_conversation_end). Returns everyone in the conversation and the
  // other participants' sessions, for the welcome and for listening.
  struct Roster {
    std::vector<ParticipantInfo> participants;
    std::map<std::string, std::shared_ptr<LiveSession>> sessions;  // by participant id
    std::string floor;  // the holder, or empty
  };
  Roster connect(const std::string& id, std::shared_ptr<ConversationMember> member);
  // The connection went away (only if it is still the current one).
  void disconnect(const std::string& id, const ConversationMember* member);
  // Goodbye for good: the others are told; the participant's history stays
  // (their session is ended by Conversations::reap, and the conversation
  // once everyone has left).
  void leave(const std::string& id);
  std::vector<std::shared_ptr<LiveSession>> sessions_of_the_departed() const;
  bool everyone_left() const;

  // Echo: the participant's device started or stopped playing translated
  // speech (it says so; docs/protocol.md).
  // `from`: the participant's connection that says so (a replaced page's
  // late word is ignored); nullptr: not checked.
  void playback(const std::string& id, bool playing, const ConversationMember* from = nullptr);
  // Translated speech `duration_ms` long was just sent to the participant's
  // page, which plays it on arrival: their microphone is not recognised from
  // now, before the page can say it plays (the network and decoding take
  // tens of milliseconds), until the page says it stopped, or until the
  // speech's length plus kSentSpeechSlackMs for a page that never says.
  void speech_sent(const std::string& id, int64_t duration_ms);
  static constexpr int64_t kSentSpeechSlackMs = 1500;
  // Speech sent this recently may have crossed the page's "stopped" on the
  // way (a network's one-way time, generously).
  static constexpr int64_t kSentCrossingMs = 250;
  // Audio from the participant's microphone, before recognition: zeroed in
  // place where it must not be recognised (their device plays speech, or
  // another participant holds the floor). The timeline stays whole.
  void gate(const std::string& id, std::span<int16_t> pcm, int rate_hz);
  void set_half_duplex(bool on);
  bool half_duplex() const;

  // Whose `token` is (constant time per participant): nothing for nobody's;
  // else when its participant left (wall clock ms), 0 while they are in.
  std::optional<int64_t> token_left_at(const std::string& token) const;
  std::vector<ParticipantInfo> participants() const;
  std::shared_ptr<LiveSession> session_of(const std::string& id) const;
  size_t n_online() const;
  int64_t idle_ms() const;  // since anyone was connected
  // Nobody has ever connected (a conversation made and abandoned, or a
  // script filling the server): it ends after kUnusedMs, not the idle timeout.
  bool never_used() const;
  static constexpr int64_t kUnusedMs = 120'000;
  bool has_ended() const;
  // Ends every participant's session and closes every connection. Idempotent.
  void end(const std::string& reason);

  // From each participant's session (UtteranceWatcher, the worker's thread).
  void utterance_opened(const std::string& id);
  void utterance_closed(const std::string& id);

 private:
  struct Participant {
    ParticipantInfo info;
    std::string token_hash;
    std::shared_ptr<LiveSession> session;
    int64_t session_id = 0;  // in the store
    std::shared_ptr<UtteranceWatcher> watcher;
    std::weak_ptr<ConversationMember> member;
    const ConversationMember* member_ptr = nullptr;
    bool joined_before = false;  // a connection came before: the next is a return
    bool talking = false;        // an utterance is open
    // Echo suppression.
    bool playing = false;
    int64_t playing_since_ms = 0;  // steady clock
    int64_t sent_until_ms = 0;     // steady clock: speech sent, not yet said to have ended
    int64_t last_sent_ms = 0;      // steady clock: the last speech sent
    double echo_tail_ms = 0;       // microphone audio still zeroed after the playback ended
  };
  Participant* find(const std::string& id);  // mu_ held
  // `p` has no connection any more (mu_ held): whether it held the floor,
  // which is free now.
  bool go_offline(Participant& p);
  // The others hear that someone went (`info`, for good or not), and of the
  // floor when they held it.
  void tell_gone(const std::vector<std::shared_ptr<ConversationMember>>& to, const ParticipantInfo& info,
                 bool for_good, bool floor_freed);
  // Keeps who `p` is in the store beside their session's words, for the
  // export after the end (mu_ held to build the row; the write queues).
  store::ConversationMember stored(const Participant& p) const;
  void save(const store::ConversationMember& row);
  // Every connected member but `except`'s (mu_ held): told outside the lock.
  std::vector<std::shared_ptr<ConversationMember>> members(const std::string& except = "") const;
  void broadcast(const std::vector<std::shared_ptr<ConversationMember>>& to, const fanout::MessagePtr& m);
  // The floor, released when its time is up (mu_ held).
  void expire_floor(int64_t now_ms);

  const std::string code_;
  const ConversationOptions options_;
  const int64_t created_at_ms_;
  Registry& sessions_;
  std::shared_ptr<ConversationCounters> counters_;
  mutable std::mutex mu_;
  std::vector<Participant> participants_;  // guarded by mu_, in joining order
  bool half_duplex_;                       // guarded by mu_
  bool ended_ = false;                     // guarded by mu_
  std::vector<std::string> joining_;       // guarded by mu_: languages of joins making their session
  int64_t last_online_ms_;                 // guarded by mu_ (steady clock)
  bool ever_online_ = false;               // guarded by mu_
  std::string floor_;                      // guarded by mu_: the holder's id
  int64_t floor_since_ms_ = 0;             // guarded by mu_
  int64_t floor_until_ms_ = 0;             // guarded by mu_: 0 while its utterance is open
};

// The live conversations of this process, by code.
class Conversations {
 public:
  Conversations(Registry& sessions, size_t max_conversations);
  // resource_exhausted at max_conversations.
  core::Result<std::shared_ptr<Conversation>> create(ConversationOptions options);
  std::shared_ptr<Conversation> find(const std::string& code) const;
  // Ends conversations nobody has been connected to for idle_ms and forgets
  // ended ones. Call from the reaper's thread (ending sessions may block).
  size_t reap(int64_t idle_ms);
  void end_all(const std::string& reason);
  size_t size() const;
  std::vector<std::shared_ptr<Conversation>> all() const;
  const ConversationCounters& counters() const { return *counters_; }

 private:
  Registry& sessions_;
  const size_t max_;
  std::shared_ptr<ConversationCounters> counters_ = std::make_shared<ConversationCounters>();
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Conversation>> by_code_;  // guarded by mu_
};

}  // namespace parley::session
