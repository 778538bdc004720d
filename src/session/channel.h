// SPDX-License-Identifier: GPL-3.0-or-later
// One language of a live session on this node: its recent finals, its
// WebSocket listeners and HTTP audio streams, and the payloads for them.
// Each event becomes its wire messages here, once, and the one shared
// message goes to every subscriber (fanout::Hub). Events arrive in order
// from one thread at a time (the session's worker on the speaker's node, or
// the bus elsewhere).
//
// Thread-safe. `mu_` makes "keep a final and send it" atomic with "replay
// the kept finals and subscribe", so a joining listener gets every final
// exactly once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "fanout/hub.h"
#include "session/events.h"

namespace parley::session {

class Channel {
 public:
  Channel(std::string language, size_t finals_kept, std::shared_ptr<fanout::Dispatcher> dispatcher);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& language() const { return language_; }

  // Builds a listener's welcome; replay_from_seq > 0 says the finals after
  // the listener's `since` and before that seq were not replayed (they are
  // read over REST). Called under the channel's lock: it must not call back.
  using WelcomeFn = std::function<fanout::MessagePtr(int64_t replay_from_seq)>;
  // Registers `listener`, then sends it the welcome and the newest kept
  // finals with seq > after_seq that fit in max_replay_bytes, oldest first;
  // then the live stream. Returns the listeners after the join;
  // failed_precondition once the channel is closed.
  core::Result<size_t> join(std::shared_ptr<fanout::Subscriber> listener, int64_t after_seq,
                            size_t max_replay_bytes, const WelcomeFn& welcome);
  // Returns the listeners left.
  size_t leave(const fanout::Subscriber* listener);
  // An HTTP player: each utterance's speech as an Ogg Opus file.
  // failed_precondition once closed. Returns the streams after the change.
  core::Result<size_t> add_stream(std::shared_ptr<fanout::Subscriber> stream);
  size_t remove_stream(const fanout::Subscriber* stream);

  // Events of this language, in order. A caption returns its live message
  // (also what the speaker gets of the source language); a partial returns
  // its message, or null when nobody listens here.
  fanout::MessagePtr publish(const CaptionEvent& e);
  fanout::MessagePtr publish(const PartialEvent& e);
  void publish(const SpeechEvent& e);
  void publish(const SpeechSkippedEvent& e);
  // A message for every listener (state changes, discarded utterances).
  void broadcast(const fanout::MessagePtr& m);
  // Says `goodbye` (unless null) to every listener and closes listeners and
  // streams, with `reason` (a node letting go says to reconnect); nobody
  // joins afterwards. Idempotent.
  void close(const fanout::MessagePtr& goodbye, const std::string& reason = "session ended");

  // Whether a listener who joined at `joined_us` (core::now_us()) can have
  // heard final `seq`'s speech in full `lag_ms` after its source speech
  // ended: the speech was sent here since the join (one of the last
  // kSpokenKept), and no more time has passed than that (+ kReportSlackMs).
  bool heard_plausibly(int64_t seq, int64_t lag_ms, int64_t joined_us) const;
  static constexpr size_t kSpokenKept = 256;
  static constexpr int64_t kReportSlackMs = 1000;

  size_t n_listeners() const { return listeners_.total(); }
  size_t n_streams() const { return streams_.total(); }
  // The newest final kept (0: none yet).
  int64_t last_seq() const;

 private:
  struct Kept {
    int64_t seq;
    fanout::MessagePtr replay;  // the final as history
  };
  struct Spoken {
    int64_t seq;
    int64_t sent_us;
    int64_t source_end_us;
  };

  const std::string language_;
  const size_t finals_kept_;
  mutable std::mutex mu_;
  std::deque<Kept> finals_;  // guarded by mu_: ascending seq
  // guarded by mu_: every final before it was let go of (finals_ holds
  // every final of this language from it on).
  int64_t floor_seq_ = 1;
  bool closed_ = false;  // guarded by mu_
  bool seen_any_ = false;  // guarded by mu_: a final came
  fanout::Hub listeners_;
  fanout::Hub streams_;
  mutable std::mutex spoken_mu_;
  std::deque<Spoken> spoken_;  // guarded by spoken_mu_: newest last
};

}  // namespace parley::session
