// SPDX-License-Identifier: GPL-3.0-or-later
// The conversation side of a participant's WebSocket (docs/protocol.md,
// "Conversations"). The connection is the speaker of the participant's own
// session and a listener, in their language, of every other participant's
// session; each of those sessions reaches it through a Feed, which tags
// what it forwards with the participant it comes from ("from"), so one
// socket carries the whole conversation.
//
// Threads: feeds deliver from sessions' threads, the conversation tells
// from any thread, the connection calls from its lane. Every method is
// thread-safe and never blocks on engines or disk.
#pragma once

#include <cstdint>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "core/status.h"
#include "fanout/message.h"
#include "session/conversation.h"

namespace parley::transport::ws {

// Binary messages of a conversation: 'P', kind 3, version 1, the length of
// the participant id N, N bytes of id, then the speech message as a talk's
// listener receives it (docs/protocol.md).
inline constexpr uint8_t kFromBinaryKind = 3;
// `m` with its sender: a JSON object gains "from" as its first member; a
// binary message is wrapped as above.
fanout::MessagePtr tag_from(const fanout::Message& m, const std::string& participant);

class ParticipantConnection final : public session::ConversationMember,
                                    public std::enable_shared_from_this<ParticipantConnection> {
 public:
  struct Options {
    int sample_rate_hz = 16000;
    // Finals already shown, per participant id, when a page reconnects:
    // only newer ones are replayed.
    std::map<std::string, int64_t> since;
    // The whole replay, shared by the conversation's sessions.
    size_t max_replay_bytes = 256 * 1024;
  };
  // Joins `conversation` as participant `joined` on behalf of `connection`:
  // sends the conversation's welcome, attaches as its session's speaker
  // (taking over a previous connection) and listens to everyone else.
  static core::Result<std::shared_ptr<ParticipantConnection>> connect(
      std::shared_ptr<session::Conversation> conversation, const session::Conversation::Joined& joined,
      std::weak_ptr<fanout::Subscriber> connection, Options options);
  ~ParticipantConnection() override;

  const std::string& id() const { return me_.id; }
  // A microphone frame: gated (echo, floor), then to the participant's session.
  core::Status audio(uint32_t seq, std::span<int16_t> pcm, const fanout::Subscriber* source);
  core::Status text(std::string text);
  // The page started or stopped playing translated speech.
  void playing(bool on);
  // The page heard the speech of `from`'s final `seq` in full, `lag_ms` after its source speech ended.
  void played(const std::string& from, int64_t seq, int64_t lag_ms);
  void set_half_duplex(bool on);
  // Whether this page plays translated speech (it says so with
  // {"type":"speech","mode":…}; default yes). A page that does not gets
  // none, is not counted as hearing (nothing is synthesised for it alone),
  // and its microphone is not gated for speech it never plays.
  void set_hearing(bool on);
  // Goodbye for good.
  void leave();
  // The connection is going: stops listening and speaking. Idempotent.
  void detach();

  // session::ConversationMember.
  void on_participant(const session::ParticipantInfo& p, std::shared_ptr<session::LiveSession> session) override;
  void on_conversation_event(fanout::MessagePtr event) override;
  void on_conversation_end(const std::string& reason) override;
  void on_replaced() override;

 private:
  class Feed;
  ParticipantConnection(std::shared_ptr<session::Conversation> conversation, session::ParticipantInfo me,
                        std::shared_ptr<session::LiveSession> own, std::weak_ptr<fanout::Subscriber> connection,
                        Options options);
  // Starts listening to `from`'s session (or the own one, in the own language).
  void listen_to(const std::string& from, const std::shared_ptr<session::LiveSession>& session, int64_t since);
  void forward(const std::string& from, const fanout::MessagePtr& m);
  void feed_closed(const std::string& from, const std::string& reason);
  std::shared_ptr<fanout::Subscriber> connection() const { return connection_.lock(); }

  const std::shared_ptr<session::Conversation> conversation_;
  const session::ParticipantInfo me_;
  const std::shared_ptr<session::LiveSession> own_;
  const std::weak_ptr<fanout::Subscriber> connection_;
  const Options options_;
  const int64_t joined_us_;
  size_t replay_bytes_ = 64 * 1024;  // each session's share of the replay (set before anything is replayed)
  std::mutex mu_;
  bool detached_ = false;                                // guarded by mu_
  // Serialises changes of the "wants speech" counts (listen_to, set_hearing).
  std::mutex hearing_mu_;
  std::atomic<bool> hearing_{true};
  std::shared_ptr<Feed> speaker_feed_;                   // guarded by mu_: as the own session's speaker
  struct Listening {
    std::shared_ptr<session::LiveSession> session;
    std::shared_ptr<Feed> feed;
    bool hears = false;  // counted as wanting speech
    int64_t last_reported_seq = 0;
  };
  std::map<std::string, Listening> listening_;  // guarded by mu_: by participant id (own: history)
};

}  // namespace parley::transport::ws
