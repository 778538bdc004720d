// SPDX-License-Identifier: GPL-3.0-or-later
// A session while it is live: its state, its speaker and listeners, and the
// worker thread that runs the speaker's pipeline. The worker starts when the
// session first goes ACTIVE (an idle session costs no thread and no
// pipeline); the recogniser borrows a pooled decoder only while an
// utterance is open.
//
// Threads. Public methods are thread-safe and never block on engines: they
// are called from the network threads. Audio and commands go to the worker
// through a bounded inbox (audio: drop the oldest frame and count it;
// commands: never dropped — they are few). The worker owns the
// SpeakerPipeline; its callbacks build each message once and hand it to the
// Hub, which queues it on every subscriber (see fanout/). `fan_mu_` makes
// "append to history and broadcast" atomic with "replay history and
// subscribe", so a joining listener sees every final exactly once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <optional>
#include <variant>
#include <vector>

#include "audio/opus_ogg.h"
#include "audio/resampler.h"
#include "fanout/hub.h"
#include "pipeline/pipeline.h"
#include "pipeline/strong_words.h"
#include "session/load_shedding.h"
#include "session/session.h"
#include "session/talk_words.h"
#include "session/telemetry.h"
#include "store/store.h"

namespace parley::session {

// Receives a language's audio as PCM, for transports that encode it
// themselves (WebRTC): the speaker's own audio for the source language, as it
// arrives; each utterance's translated speech, whole, for a target language.
// Called from network threads (source) or the session's worker (targets);
// must not block.
class AudioTap {
 public:
  virtual ~AudioTap() = default;
  virtual void on_audio(std::span<const int16_t> pcm, int rate_hz) = 0;
  // The session has ended; the tap has been removed.
  virtual void on_session_end() {}
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
  std::shared_ptr<Telemetry> telemetry;  // process-wide; a private one when null
  std::shared_ptr<fanout::Dispatcher> dispatcher;  // where broadcasts run; null: on the worker
  // Builds sessions' vocabularies and scripts (process-wide); null: a
  // small one of the session's own.
  std::shared_ptr<WordsBuilder> words_builder;
  // Strong language by language (web/strong-words/), for sessions whose
  // speaker hides it; null: none known.
  std::shared_ptr<const std::map<std::string, pipeline::StrongWords>> strong_words;
};


class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  static std::shared_ptr<LiveSession> create(SessionInfo info, std::string token_hash,
                                             pipeline::Engines engines,
                                             std::shared_ptr<store::Store> store, LiveConfig config);
  ~LiveSession();
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  const std::string& code() const { return code_; }
  SessionInfo info() const;
  bool token_matches(std::string_view token) const;

  // State changes; the caller has checked the token.
  core::Result<State> apply(Action action);

  // The speaker's connection: receives its transcript and listener counts.
  // One at a time: failed_precondition while another is attached, unless
  // `takeover`, which tells the other ("replaced") and closes it.
  core::Status attach_speaker(std::shared_ptr<fanout::Subscriber> speaker, bool takeover);
  void detach_speaker(const fanout::Subscriber* speaker);
  // One frame of mono PCM16 at `rate_hz`. `seq` counts frames from the
  // speaker's connection, 1, 2, 3, … (gaps are counted as lost audio); nullopt
  // for a transport that orders frames itself (WebRTC). invalid_argument for
  // an unusable rate, an oversized frame, or a sequence number that goes back
  // or jumps by more than a minute of frames.
  // `source` is the speaker connection sending it (as attached); frames from
  // a connection that was taken over are refused. nullptr: not checked.
  core::Status push_audio(std::optional<uint32_t> seq, std::span<const int16_t> pcm, int rate_hz,
                          const fanout::Subscriber* source = nullptr);
  // The speaker's audio source stopped (a WebRTC publisher left): the
  // utterance in flight is finished rather than left open.
  void end_of_audio();
  // A typed caption from the speaker, handled like a spoken utterance (after
  // the audio already sent). failed_precondition unless ACTIVE;
  // resource_exhausted when too many wait.
  core::Status push_text(std::string text);

  // A listener in `language` (the source language, or any reachable target).
  // Registers it, then sends the welcome and the newest finals with
  // seq > after_seq that fit in max_replay_bytes, then the live stream; the
  // welcome's olderHistory names the finals left to fetch over REST. Reads
  // no store. not_found when the language cannot be reached.
  core::Status add_listener(std::shared_ptr<fanout::Subscriber> listener,
                            const std::string& language, int64_t after_seq,
                            size_t max_replay_bytes = kDefaultReplayBytes);
  static constexpr size_t kDefaultReplayBytes = 256 * 1024;
  void remove_listener(const std::string& language, const fanout::Subscriber* listener);
  // WebSocket listeners that want translated speech (speech mode full or
  // timeline), per language: +1 when one starts wanting it, -1 when it stops
  // or leaves. A language whose listeners all read captions only is not
  // synthesised (HTTP streams and taps always want it).
  void count_speech_listener(const std::string& language, int delta);
  bool wants_speech(const std::string& language) const;
  // A listener page heard the speech of final `seq` in full `lag_ms` after
  // its source speech ended (its own measure; /metrics aggregates them per
  // language). Taken only for speech the session sent in that language since
  // the listener joined at `joined_us` (one of the last 256; skipped speech
  // has none) and for a lag no longer than the time since its source speech
  // ended (+1 s), at most ten minutes.
  // Returns whether the report was taken.
  bool report_playback(const std::string& language, int64_t seq, int64_t lag_ms, int64_t joined_us);
  static constexpr int64_t kMaxReportedLagMs = 600'000;
  static constexpr int64_t kReportSlackMs = 1000;
  static constexpr size_t kSpokenKept = 256;  // per language
  // The transcript's mark where audio was lost because the server fell behind.
  static constexpr const char* kGapMark = "[…]";
  // Plain HTTP players: chained Ogg Opus links of the language's speech.
  // check_audio_stream says, without adding anything, whether add_audio_stream
  // would accept the language: not_found for the source language or an
  // unreachable one, unavailable without speech synthesis.
  core::Status check_audio_stream(const std::string& language) const;
  core::Status add_audio_stream(std::shared_ptr<fanout::Subscriber> stream, const std::string& language);
  void remove_audio_stream(const std::string& language, const fanout::Subscriber* stream);
  // A WebRTC player of `language`: counted in the audience and its caps
  // (resource_exhausted when full; not_found for an unreachable language).
  // Every add_player that succeeded is matched by one remove_player.
  core::Status add_player(const std::string& language);
  void remove_player(const std::string& language);
  // PCM of a language (AudioTap). A target language is translated and spoken
  // while it has a tap. not_found when the language cannot be reached;
  // unavailable without speech synthesis (targets only).
  core::Status add_tap(const std::string& language, std::shared_ptr<AudioTap> tap);
  void remove_tap(const std::string& language, const AudioTap* tap);
  const std::string& source_language() const { return info_.spec.source_language; }  // immutable

  std::map<std::string, size_t> listener_counts() const { return listeners_.counts(); }
  // The most WebSocket listeners each language had at once (for the
  // end-of-session summary; stored as metrics "peak_listeners.<language>").
  std::map<std::string, size_t> peak_listeners() const;
  size_t n_listeners() const { return listeners_.total(); }
  // WebSocket listeners, HTTP audio streams and WebRTC players together.
  size_t n_audience() const { return listeners_.total() + streams_.total() + n_players(); }
  int64_t last_seq() const;
  int64_t idle_ms() const;
  const LiveCounters& counters() const { return counters_; }
  // The session's vocabulary and script (talk_words.h): the speaker's API
  // sets them; the worker applies them between utterances.
  TalkWords& words() { return *words_; }
  bool has_ended() const { return ended_.load(); }
  // The worker has finished (after the goodbye of an ended session).
  bool worker_exited() const { return worker_exited_.load(); }

  // Ends the session (from any state), finishing the utterance in flight,
  // telling every client and closing them. Idempotent.
  void end(const std::string& reason);

 private:
  struct AudioFrame {
    std::vector<int16_t> pcm;
    int rate_hz;
    int64_t arrived_us = 0;  // core::now_us() when it reached the session
    int64_t duration_us() const { return rate_hz > 0 ? static_cast<int64_t>(pcm.size()) * 1000000 / rate_hz : 0; }
  };
  struct AddTarget { std::string language; };
  struct RemoveTarget { std::string language; };
  struct Flush {};
  struct Text { std::string text; };
  struct Stop {};
  using Command = std::variant<AddTarget, RemoveTarget, Flush, Text, Stop, WordsCommand>;
  class Events;

  LiveSession(SessionInfo info, std::string token_hash, pipeline::Engines engines,
              std::shared_ptr<store::Store> store, LiveConfig config);
  void post(Command c);
  // Starts the worker unless it runs or the session ended before it ever did.
  void start_worker();
  void run_worker();
  // Tells every client the session ended and closes them (the worker's last
  // act, or end()'s when no worker ever ran).
  void say_goodbye();
  void handle(const Command& c, pipeline::SpeakerPipeline* pipe, bool& stop);
  // A change of the session's words, between utterances (worker thread).
  void apply_words(pipeline::SpeakerPipeline& pipe, const WordsCommand& c);
  void feed(pipeline::SpeakerPipeline& pipe, const AudioFrame& frame);
  // Sheds load by how far behind real time the worker is (load_shedding.h);
  // `lost_us` of the oldest audio was dropped at the full inbox.
  void shed(pipeline::SpeakerPipeline& pipe, int64_t behind_us, int64_t lost_us);
  // Where `lost_us` of audio never reached the recogniser: a marked gap in
  // every language's transcript, at the stream position where it happened
  // (the utterance before it is already closed).
  void mark_gap(pipeline::SpeakerPipeline& pipe, int64_t lost_us);
  // Feeds every frame still waiting in the inbox (before a flush or a typed caption).
  void feed_waiting_audio(pipeline::SpeakerPipeline& pipe);
  void backfill(const std::string& language);
  void touch();
  void notify_speaker_counts();
  bool reachable(const std::string& language) const;
  // Whether one more member of the audience in `language` fits the caps.
  core::Status admit(const std::string& language) const;
  size_t n_players() const;
  // Someone receives this language: WebSocket listeners, HTTP streams or taps.
  bool has_audience(const std::string& language) const;
  // HTTP streams or taps, which always take the language's speech.
  bool has_audio_subscribers(const std::string& language) const;
  // Stops translating into a language nobody receives any more (default
  // targets and the source language stay).
  void retire_if_unheard(const std::string& language);
  void tap_audio(const std::string& language, std::span<const int16_t> pcm, int rate_hz) const;

  // Pipeline events (worker thread).
  void on_partial(uint64_t id, uint32_t rev, const std::string& text);
  void on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang, const std::string& text);
  void on_final(const pipeline::Utterance& u);
  // Numbers a final, keeps it in the history and sends it to the speaker and
  // the source language's listeners, and to `translated` languages' listeners
  // (whose text item.translations holds), atomically with joins.
  void publish_final(store::HistoryItem& item, const std::vector<std::string>& translated);
  void on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t);
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech& speech);
  void on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t);
  void on_error(const core::Status& s);
  // Milliseconds from the end of u's source speech to now (-1: unknown).
  static int64_t since_source_end_ms(const pipeline::Utterance& u);
  // The pace of a language's speech, at /metrics.
  void observe_pace(const pipeline::TranslationResult& t);
  // Stores stage times of the utterance with this seq (worker thread).
  struct Stage {
    std::string language;  // empty: the source
    const char* stage;
    int64_t from_us, to_us;  // core::now_us() stamps; 0: not reached
  };
  // `measured`: durations measured elsewhere (a speech's wait and lag),
  // stored with them, in one write.
  void record_timings(int64_t seq, std::initializer_list<Stage> stages,
                      std::vector<store::StageTiming> measured = {});
  // Counts in this session's counters and the process totals.
  void bump(std::atomic<uint64_t> LiveCounters::*field, uint64_t n = 1);

  const std::string code_;
  const std::string token_hash_;
  pipeline::Engines engines_;
  std::shared_ptr<store::Store> store_;
  LiveConfig config_;
  LiveCounters counters_;
  std::atomic<int> pending_texts_{0};
  // Worker thread only: speaker audio at other rates is resampled to 16 kHz.
  std::unique_ptr<audio::StreamResampler> resampler_;
  std::vector<float> samples_, resampled_;

  mutable std::mutex info_mu_;
  SessionInfo info_;  // guarded by info_mu_
  std::map<std::string, size_t> peaks_;  // guarded by info_mu_

  // Ordering of history and broadcasts.
  mutable std::mutex fan_mu_;
  std::deque<store::HistoryItem> history_;  // guarded by fan_mu_
  int64_t next_seq_ = 1;                    // guarded by fan_mu_
  bool closed_ = false;                     // guarded by fan_mu_: the goodbye was said, nobody joins
  fanout::Hub listeners_;                   // by language
  fanout::Hub streams_;                     // HTTP audio streams by language
  fanout::Hub speaker_;                     // key "speaker"
  std::mutex speaker_mu_;                   // one attach at a time
  mutable std::mutex speech_mu_;
  std::map<std::string, int> speech_listeners_;  // guarded by speech_mu_
  mutable std::mutex players_mu_;
  std::map<std::string, size_t> players_;  // WebRTC players by language; guarded by players_mu_
  mutable std::mutex taps_mu_;
  std::map<std::string, std::vector<std::shared_ptr<AudioTap>>> taps_;  // guarded by taps_mu_
  std::map<uint64_t, int64_t> seq_of_utterance_;  // worker thread only
  // Speech sent per language, newest last (bounded): which finals a listener
  // can report having heard, and when their source speech ended.
  struct Spoken {
    int64_t seq;
    int64_t sent_us;
    int64_t source_end_us;
  };
  mutable std::mutex spoken_mu_;
  std::map<std::string, std::deque<Spoken>> spoken_;  // guarded by spoken_mu_

  // Worker inbox.
  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::deque<AudioFrame> audio_in_;
  int64_t audio_in_us_ = 0;          // guarded by inbox_mu_: the audio waiting in audio_in_
  int64_t audio_lost_us_ = 0;        // guarded by inbox_mu_: dropped at the full inbox, not yet marked
  LoadShedder shedder_;              // worker thread only
  int64_t last_arrival_us_ = 0;      // worker thread only: when the last frame fed arrived
  size_t shed_targets_ = 0;          // worker thread only: targets when speech was last shed
  std::deque<Command> commands_;
  uint32_t last_audio_seq_ = 0;  // guarded by inbox_mu_
  const fanout::Subscriber* current_speaker_ = nullptr;  // guarded by inbox_mu_: the attached speaker connection
  std::string end_reason_;       // guarded by inbox_mu_
  bool have_audio_seq_ = false;
  std::atomic<int64_t> last_activity_ms_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> worker_exited_{false};
  uint32_t next_stream_serial_ = 1;  // worker thread only
  std::mutex worker_mu_;
  std::thread worker_;          // guarded by worker_mu_; started on the first ACTIVE
  bool worker_retired_ = false;  // guarded by worker_mu_: ended before a worker ran
  uint64_t words_revision_ = 0;  // worker thread only: the words revision the pipeline reflects
  std::atomic<bool> worker_started_{false};  // words commands go to the inbox from then on
  // Last: destroyed first, so no build finishing late posts to a session
  // being torn down.
  std::unique_ptr<TalkWords> words_;
};

}  // namespace parley::session
