// SPDX-License-Identifier: GPL-3.0-or-later
// A session while it is live, on this node. Three parts, each with one job:
//   - this object: the session's state, its speaker connection, and who
//     receives it (the audience, with its caps);
//   - the Worker (worker.h): a thread, started when the session first goes
//     ACTIVE, that owns the speaker's pipeline behind a bounded inbox and
//     makes every event once (events.h);
//   - a Channel per language (channel.h): the recent finals, the
//     listeners and streams, and each payload built once for all of them.
// Transports see the session through the narrow SpeakerLink and
// ListenerLink interfaces (links.h).
//
// Threads. Public methods are thread-safe and never block on engines: they
// are called from the network threads. Events from the worker reach the
// channels and the speaker on the worker's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audio/opus_ogg.h"
#include "fanout/bus.h"
#include "fanout/hub.h"
#include "pipeline/pipeline.h"
#include "pipeline/strong_words.h"
#include "session/channel.h"
#include "session/links.h"
#include "session/session.h"
#include "session/talk_words.h"
#include "session/telemetry.h"
#include "session/worker.h"
#include "store/store.h"

namespace parley::session {

// Told when the speaker's utterances open and close (a conversation's floor
// and its talk indicator). Called on the session's worker thread; must not
// block.
class UtteranceWatcher {
 public:
  virtual ~UtteranceWatcher() = default;
  // The utterance's first partial caption: the speaker is talking.
  virtual void on_utterance_open(uint64_t utterance_id) = 0;
  // Its final (kept) or its discard (nothing was recognised). A typed
  // caption closes an utterance that was never opened.
  virtual void on_utterance_closed(uint64_t utterance_id, bool kept) = 0;
};

struct LiveConfig {
  size_t audio_queue_frames = 500;  // speaker frames waiting for the worker (~10 s of 20 ms frames)
  size_t history_in_memory = 2000;  // older finals are read over REST, from the store
  // Everyone who receives the session (WebSocket listeners, HTTP audio
  // streams, WebRTC players), and the target languages translated at once:
  // beyond them a new listener, or a new language, is refused.
  size_t max_audience = 20000;
  size_t max_languages = 10;
  pipeline::SegmenterConfig segmenter;
  pipeline::PaceConfig pace;
  audio::OpusSettings opus;
  std::shared_ptr<Telemetry> telemetry;            // process-wide; a private one when null
  std::shared_ptr<fanout::Dispatcher> dispatcher;  // where broadcasts run; null: on the worker
  // Builds sessions' vocabularies and scripts (process-wide); null: a
  // small one of the session's own.
  std::shared_ptr<WordsBuilder> words_builder;
  // Strong language by language (web/strong-words/), for sessions whose
  // speaker hides it; null: none known.
  std::shared_ptr<const std::map<std::string, pipeline::StrongWords>> strong_words;
  // Several nodes (docs/scaling.md): the bus between them (null: this node
  // is alone) and this node's name on it.
  std::shared_ptr<fanout::Bus> bus;
  std::string node_id;
  // Whether every node writes the same store (PostgreSQL). When not, a
  // session seen from, or taken over by, another node is not written there:
  // its rows live in its first node's store.
  bool store_is_shared = false;
};

class LiveSession final : public std::enable_shared_from_this<LiveSession>,
                          public SpeakerLink,
                          public ListenerLink,
                          private WorkerHost {
 public:
  // `fence`: the token of this node's lease on the session (several nodes;
  // 0 alone), which the other nodes check its events against.
  static std::shared_ptr<LiveSession> create(SessionInfo info, std::string token_hash,
                                             pipeline::Engines engines,
                                             std::shared_ptr<store::Store> store, LiveConfig config,
                                             int64_t fence = 0);
  // A session whose pipeline runs on another node: its audience here is
  // fed from the bus, its state changes go to that node.
  static std::shared_ptr<LiveSession> create_view(SessionInfo info, std::string token_hash,
                                                  pipeline::Engines engines,
                                                  std::shared_ptr<store::Store> store,
                                                  LiveConfig config);
  ~LiveSession() override;
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  const std::string& code() const { return code_; }
  SessionInfo info() const;
  bool token_matches(std::string_view token) const;
  const std::string& source_language() const { return info_.spec.source_language; }  // immutable
  // One participant's voice in a conversation (SessionSpec::conversation): private to it.
  bool in_conversation() const { return !info_.spec.conversation.empty(); }  // immutable

  // SpeakerLink.
  core::Result<State> apply(Action action) override;
  core::Status attach_speaker(std::shared_ptr<fanout::Subscriber> speaker, bool takeover,
                              std::optional<uint64_t> resume = std::nullopt) override;
  void detach_speaker(const fanout::Subscriber* speaker) override;
  core::Status push_audio(std::optional<uint32_t> seq, std::span<const int16_t> pcm, int rate_hz,
                          const fanout::Subscriber* source) override;
  void end_of_audio() override;
  core::Status push_text(std::string text) override;
  TalkWords& words() override { return *words_; }

  // ListenerLink.
  core::Status add_listener(std::shared_ptr<fanout::Subscriber> listener,
                            const std::string& language, int64_t after_seq,
                            size_t max_replay_bytes = kDefaultReplayBytes) override;
  void remove_listener(const std::string& language, const fanout::Subscriber* listener) override;
  void count_speech_listener(const std::string& language, int delta) override;
  bool report_playback(const std::string& language, int64_t seq, int64_t lag_ms,
                       int64_t joined_us) override;
  core::Status check_audio_stream(const std::string& language) const override;
  core::Status add_audio_stream(std::shared_ptr<fanout::Subscriber> stream,
                                const std::string& language) override;
  void remove_audio_stream(const std::string& language, const fanout::Subscriber* stream) override;
  core::Status add_player(const std::string& language) override;
  void remove_player(const std::string& language) override;
  core::Status add_tap(const std::string& language, std::shared_ptr<AudioTap> tap) override;
  void remove_tap(const std::string& language, const AudioTap* tap) override;

  // The speaker's utterances opening and closing, from now on (one watcher;
  // a later call replaces it). Held weakly.
  void watch_utterances(std::weak_ptr<UtteranceWatcher> watcher);

  // For the operator (API, /metrics, the registry).
  // WebSocket listeners by language (languages with none left out).
  std::map<std::string, size_t> listener_counts() const;
  // The most WebSocket listeners each language had at once (for the
  // end-of-session summary; stored as metrics "peak_listeners.<language>").
  std::map<std::string, size_t> peak_listeners() const;
  size_t n_listeners() const;
  // WebSocket listeners, HTTP audio streams and WebRTC players together.
  size_t n_audience() const;
  int64_t last_seq() const { return last_seq_.load(); }
  int64_t idle_ms() const;
  const LiveCounters& counters() const { return counters_; }
  bool has_ended() const { return ended_.load(); }
  // The worker has finished (after the goodbye of an ended session).
  bool worker_exited() const { return worker_exited_.load(); }
  // Ends the session (from any state), finishing the utterance in flight,
  // telling every client and closing them. Idempotent.
  void end(const std::string& reason);
  // This node is shutting down, the others carry on (several nodes): the
  // utterance in flight is finished, the lease released and every client
  // here closed without a goodbye, so they reconnect to another node, which
  // takes the session over at once. Alone, the same as end().
  void leave(const std::string& reason);

  // The transcript's mark where audio was lost because the server fell behind.
  static constexpr const char* kGapMark = Worker::kGapMark;

  // Several nodes.
  bool is_view() const { return !producing_.load(); }
  // Called about once a second: a view tells the session's node who listens
  // here (that node translates and speaks for them) when that changed, and
  // every kAudienceRefreshMs regardless; the session's node forgets the
  // audience of nodes that stopped telling (kAudienceTtlMs).
  void tick();
  static constexpr int64_t kAudienceRefreshMs = 3000;
  static constexpr int64_t kAudienceTtlMs = 10000;
  // The session's node renews its lease on every tick; another node may
  // take the session this long after the last renewal.
  static constexpr int64_t kLeaseTtlMs = 4000;
  // A running session with no speaker here for this long moves to the node
  // its speaker joins (hand_over).
  static constexpr int64_t kHandOverAfterMs = 10000;
  // How far beyond this node's clock (ms) a lease's fence may be: fences
  // start from Redis's clock and count one per take-over.
  static constexpr int64_t kFenceAheadToleranceMs = int64_t{1'000'000'000};
  static std::string lease_name(const std::string& code) { return "parley:lease:" + code; }
  const std::string& token_hash() const { return token_hash_; }
  // The node shut down and left the session to the others (leave()).
  bool left_to_others() const { return leaving_.load(); }
  // Lease renewals refused (another node holds the session now).
  uint64_t leases_lost() const { return leases_lost_.load(); }
  // Another node holds the session's lease now (this node was cut off from
  // the bus for longer than the lease, and the speaker joined there): this
  // node stops publishing and storing, and lets its speaker and listeners
  // go with a reason to reconnect; the registry forgets it, and the next
  // lookup here makes a view.
  void depose();
  static std::string events_topic(const std::string& code) { return "parley:events:" + code; }
  static std::string audience_topic(const std::string& code) { return "parley:audience:" + code; }
  static std::string control_topic(const std::string& code) { return "parley:control:" + code; }

 private:
  LiveSession(SessionInfo info, std::string token_hash, pipeline::Engines engines,
              std::shared_ptr<store::Store> store, LiveConfig config, bool view);
  // Delivers an event to this node's speaker and channels.
  void route(const Event& event);
  // From the bus (a view): an event of the session's node, fenced.
  void on_bus_event(std::string_view message);
  // From the bus (the session's node): another node's audience, or an action.
  void on_audience(std::string_view message);
  void on_control(std::string_view message);
  // A view: this node's audience, as the session's node reads it.
  std::string audience_summary() const;
  // Publishes this node's audience summary; with `if_changed`, only when it
  // differs from the last one sent or that is kAudienceRefreshMs old.
  void send_audience(bool if_changed = false);
  // Languages heard on other nodes that tell (expired ones left out).
  struct RemoteAudience {
    size_t listeners = 0;  // WebSocket listeners and HTTP streams
    size_t hearing = 0;    // of them, and players, those who take speech
  };
  std::map<std::string, RemoteAudience> remote_audience() const;
  // A view whose session's node stopped: the speaker connected here, so
  // this node asks for the lease and, given it, runs the session from the
  // next final on (the bus's thread).
  void take_over();
  // Closes this node's clients without a goodbye and stops hearing the bus.
  void let_go(const std::string& reason);
  // A view keeps what it heard of the session's finals (relayed_), for the
  // day it takes the session over.
  void relay(const CaptionEvent& e);
  // The session's node, asked by a node its speaker reached: becomes a view
  // unless its pipeline has run (the other node then takes the lease).
  void hand_over();
  static constexpr std::string_view kHandover = "handover ";
  // A view has read the session's log: the listeners waiting for it join.
  void on_caught_up();
  struct PendingJoin {
    std::shared_ptr<fanout::Subscriber> listener;
    std::string language;
    int64_t after_seq;
    size_t max_replay_bytes;
  };
  void promote(int64_t fence);
  // The session's node listens to the others (audience, state changes).
  void listen_to_other_nodes();

  // WorkerHost (the worker's thread).
  void publish(Event event) override;
  void to_speaker(fanout::MessagePtr message) override;
  bool has_audience(const std::string& language) const override;
  bool wants_speech(const std::string& language) const override;
  size_t n_hearing(const std::string& language) const override;
  void tap_audio(const std::string& language, std::span<const int16_t> pcm, int rate_hz) override;
  void worker_done() override;
  bool may_store() const override { return !deposed_.load(); }

  // Starts the worker unless it runs or the session ended before it ever did.
  void start_worker();
  // Tells every client the session ended and closes them (the worker's last
  // act, or end()'s when no worker ever ran).
  void say_goodbye();
  // The language's channel; created when `create` unless the session has
  // said goodbye. Null when there is none.
  std::shared_ptr<Channel> channel(const std::string& language, bool create);
  std::shared_ptr<Channel> find_channel(const std::string& language) const;
  std::vector<std::shared_ptr<Channel>> all_channels() const;
  void store_counters(int64_t id);
  void touch();
  void notify_speaker_counts();
  bool reachable(const std::string& language) const;
  // Whether one more member of the audience in `language` fits the caps.
  core::Status admit(const std::string& language) const;
  size_t n_players() const;
  // HTTP streams or taps, which always take the language's speech.
  bool has_audio_subscribers(const std::string& language) const;
  // Stops translating into a language nobody receives any more (default
  // targets and the source language stay).
  void retire_if_unheard(const std::string& language);
  // A new target language's first member of the audience.
  void first_of(const std::string& language);

  const std::string code_;
  const std::string token_hash_;
  pipeline::Engines engines_;
  std::shared_ptr<store::Store> store_;
  LiveConfig config_;
  LiveCounters counters_;

  mutable std::mutex info_mu_;
  SessionInfo info_;                     // guarded by info_mu_
  std::map<std::string, size_t> peaks_;  // guarded by info_mu_
  std::atomic<int64_t> last_seq_{0};
  std::atomic<int64_t> last_activity_ms_;
  std::atomic<bool> ended_{false};
  std::string end_reason_;  // guarded by info_mu_
  // Set before the goodbye: nobody joins afterwards (each add_* checks it
  // under the lock the goodbye takes after setting it).
  std::atomic<bool> closed_{false};

  // The speaker's connection. speaker_mu_ makes "send a source final to the
  // speaker" atomic with "welcome a speaker", like a channel's join.
  std::mutex speaker_mu_;
  fanout::Hub speaker_;  // key "speaker"; guarded by speaker_mu_
  uint64_t speaker_generation_ = 0;  // guarded by speaker_mu_: the attached connection's (links.h)
  std::mutex frames_mu_;
  const fanout::Subscriber* current_speaker_ =
      nullptr;                   // guarded by frames_mu_: whose frames are taken
  uint32_t last_audio_seq_ = 0;  // guarded by frames_mu_
  bool have_audio_seq_ = false;  // guarded by frames_mu_

  mutable std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;  // guarded by channels_mu_

  // The audience that is not a channel's listener or stream.
  mutable std::mutex audience_mu_;
  std::map<std::string, int> speech_listeners_;  // guarded by audience_mu_
  std::map<std::string, size_t> players_;  // WebRTC players by language; guarded by audience_mu_
  std::map<std::string, std::vector<std::shared_ptr<AudioTap>>> taps_;  // guarded by audience_mu_

  // Several nodes. A view drops events from a node whose lease is older
  // than the newest it has seen (a node that lost its lease and does not
  // know yet).
  std::atomic<bool> producing_{false};    // this node runs the session (its worker may)
  std::atomic<bool> taking_over_{false};
  std::atomic<int64_t> take_over_since_ms_{0};  // when it asked (steady clock)
  std::atomic<bool> leaving_{false};  // leave(): this node lets go, the session goes on elsewhere
  std::atomic<bool> deposed_{false};  // the lease passed to another node: nothing more is sent or stored
  std::mutex audience_sent_mu_;
  std::string audience_sent_;      // guarded by audience_sent_mu_: the last summary published
  int64_t audience_sent_ms_ = 0;   // guarded by audience_sent_mu_ (steady clock)
  std::atomic<int64_t> speaker_seen_ms_{0};
  static constexpr uint64_t kRestateEvery = 500;  // captions published between repeats of the state
  std::atomic<uint64_t> kept_since_state_{0};  // steady clock: a speaker here last (0: never)
  int64_t fence_ = 0;                     // the session's node: its lease's token
  std::atomic<uint64_t> leases_lost_{0};
  std::atomic<int64_t> newest_fence_{0};  // a view
  std::atomic<bool> caught_up_{false};    // a view: the log has been read
  std::mutex relayed_mu_;
  std::map<int64_t, store::HistoryItem> relayed_;  // guarded by relayed_mu_: a view's, by seq
  std::mutex pending_mu_;
  std::vector<PendingJoin> pending_joins_;
  int64_t promote_with_fence_ = 0;  // guarded by pending_mu_: a lease given before the log was read  // guarded by pending_mu_: listeners waiting for the log
  // A view: the session's events. Both: the other nodes' audience. The
  // session's node: state changes asked elsewhere.
  std::mutex subs_mu_;  // each of the three is set from the bus's thread and others
  std::unique_ptr<fanout::Bus::Subscription> bus_sub_, audience_sub_, control_sub_;  // guarded by subs_mu_
  void subscribe_as(std::unique_ptr<fanout::Bus::Subscription> LiveSession::*member,
                    std::unique_ptr<fanout::Bus::Subscription> subscription);
  struct NodeAudience {
    int64_t seen_ms = 0;
    std::map<std::string, RemoteAudience> languages;
  };
  std::map<std::string, NodeAudience> remote_;  // guarded by audience_mu_: by node

  std::mutex watcher_mu_;
  std::weak_ptr<UtteranceWatcher> watcher_;  // guarded by watcher_mu_
  uint64_t open_utterance_ = 0;              // the worker's thread only: the last one told open
  // The watcher, if any (the worker's thread).
  std::shared_ptr<UtteranceWatcher> watcher();

  std::atomic<bool> worker_exited_{false};
  std::mutex worker_mu_;
  bool worker_running_ = false;  // guarded by worker_mu_: started on the first ACTIVE
  bool worker_retired_ = false;  // guarded by worker_mu_: ended before a worker ran
  std::unique_ptr<TalkWords> words_;
  // Last: destroyed first (the destructor stops it before anything else goes).
  // Every session has one; only a producing session's ever runs.
  std::unique_ptr<Worker> worker_;
};

}  // namespace parley::session
