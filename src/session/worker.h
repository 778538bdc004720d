// SPDX-License-Identifier: GPL-3.0-or-later
// The speaker's side of a live session: a thread that owns the speech
// pipeline, fed through a bounded inbox. It numbers the finals, keeps them
// in the store, and makes every event for the audience once (events.h),
// handing it to its host, which routes it to the channels (or the bus).
//
// Threads. push_audio and post are thread-safe and never block on engines:
// the network threads call them. Audio waits in a bounded inbox (full: the
// oldest half goes, counted, and the hole is marked in the transcript);
// commands are never dropped (they are few, and their callers cap them).
// Everything else runs on the worker's thread. The host's methods are
// called from the worker's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "audio/opus_ogg.h"
#include "audio/resampler.h"
#include "fanout/message.h"
#include "pipeline/pipeline.h"
#include "pipeline/strong_words.h"
#include "session/events.h"
#include "session/load_shedding.h"
#include "session/session.h"
#include "session/talk_words.h"
#include "session/telemetry.h"
#include "store/store.h"

namespace parley::session {

// What the worker needs from the session around it (worker thread).
class WorkerHost {
 public:
  virtual ~WorkerHost() = default;
  // Every event for the audience, in order.
  virtual void publish(Event event) = 0;
  // A message for the speaker alone (engine errors, script positions).
  virtual void to_speaker(fanout::MessagePtr message) = 0;
  // Whether anyone on this node receives the language (listeners, HTTP
  // streams, taps), wants its speech, and how many of them hear it.
  virtual bool has_audience(const std::string& language) const = 0;
  virtual bool wants_speech(const std::string& language) const = 0;
  virtual size_t n_hearing(const std::string& language) const = 0;
  // The language's speech as PCM, for transports that encode it themselves.
  virtual void tap_audio(const std::string& language, std::span<const int16_t> pcm, int rate_hz) = 0;
  // The worker has handled everything and stops: its last call.
  virtual void worker_done() = 0;
  // Whether the finals are still this node's to store: not once another
  // node runs the session (it numbers them from then on).
  virtual bool may_store() const { return true; }
};

struct WorkerConfig {
  int64_t session_id = 0;  // store key
  std::string code;        // for logs
  int64_t first_seq = 1;   // the number of the session's next final
  SessionSpec spec;
  size_t audio_queue_frames = 500;  // ~10 s of 20 ms frames
  size_t finals_kept = 2000;        // for translating them later into a new language
  pipeline::SegmenterConfig segmenter;
  pipeline::PaceConfig pace;
  audio::OpusSettings opus;
  std::shared_ptr<const std::map<std::string, pipeline::StrongWords>> strong_words;
};

class Worker {
 public:
  // The host, counters, telemetry and words outlive the worker.
  Worker(WorkerConfig config, pipeline::Engines engines, std::shared_ptr<store::Store> store, WorkerHost& host,
         LiveCounters& counters, Telemetry& telemetry, TalkWords& words);
  // Stops the thread and waits for it, unless called on it (the host was
  // let go of by its last owner there): then the thread is detached and
  // touches nothing of the worker after worker_done().
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread (once). `first_seq`: the number of the session's next
  // final, when another node numbered the ones before; `known`: those
  // finals, as far as this node heard them (translated later for a
  // language that gains listeners).
  void start(std::optional<int64_t> first_seq = std::nullopt, std::vector<store::HistoryItem> known = {});

  // Frames of 16-bit mono PCM at rate_hz (checked by the caller).
  void push_audio(std::span<const int16_t> pcm, int rate_hz);
  // A language gained its first member of the audience, or lost its last.
  void add_target(std::string language) { post(AddTarget{std::move(language)}); }
  void remove_target(std::string language) { post(RemoveTarget{std::move(language)}); }
  // Finish the utterance in flight (pause, end, a publisher that left).
  void flush() { post(Flush{}); }
  // A typed caption, handled after the audio sent before it.
  void push_text(std::string text) { post(Text{std::move(text)}); }
  void change_words(WordsCommand c) { post(std::move(c)); }
  // Handle everything sent so far, then stop (worker_done follows).
  void stop() { post(Stop{}); }
  // Typed captions not yet handled (their sender caps them).
  int pending_texts() const { return pending_texts_.load(); }

  // The transcript's mark where audio was lost because the server fell behind.
  static constexpr const char* kGapMark = "[…]";

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

  void post(Command c);
  void run();
  void handle(const Command& c, pipeline::SpeakerPipeline* pipe, bool& stop);
  // A change of the session's words, between utterances.
  void apply_words(pipeline::SpeakerPipeline& pipe, const WordsCommand& c);
  void feed(pipeline::SpeakerPipeline& pipe, const AudioFrame& frame);
  // Sheds load by how far behind real time the worker is (load_shedding.h);
  // `lost_us` of the oldest audio was dropped at the full inbox.
  void shed(pipeline::SpeakerPipeline& pipe, int64_t behind_us, int64_t lost_us);
  // Where `lost_us` of audio never reached the recogniser: a marked gap in
  // every language's transcript, at the stream position where it happened.
  void mark_gap(pipeline::SpeakerPipeline& pipe, int64_t lost_us);
  // Feeds every frame still waiting in the inbox (before a flush or a typed caption).
  void feed_waiting_audio(pipeline::SpeakerPipeline& pipe);
  // Translates the kept finals into a language that just gained listeners.
  void backfill(const std::string& language);

  // Pipeline events.
  void on_partial(uint64_t id, uint32_t rev, const std::string& text);
  void on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang, const std::string& text);
  void on_final(const pipeline::Utterance& u);
  void on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t);
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech& speech);
  void on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t);
  void on_error(const core::Status& s);
  // Numbers a final, keeps it, and publishes it in the source language and
  // in every language item.translations holds.
  void publish_final(store::HistoryItem& item);
  // Milliseconds from the end of u's source speech to now (-1: unknown).
  static int64_t since_source_end_ms(const pipeline::Utterance& u);
  void observe_pace(const pipeline::TranslationResult& t);
  struct Stage {
    std::string language;  // empty: the source
    const char* stage;
    int64_t from_us, to_us;  // core::now_us() stamps; 0: not reached
  };
  // Stores stage times of final `seq`, with durations `measured` elsewhere, in one write.
  void record_timings(int64_t seq, std::initializer_list<Stage> stages,
                      std::vector<store::StageTiming> measured = {});
  void bump(std::atomic<uint64_t> LiveCounters::*field, uint64_t n = 1);

  const WorkerConfig config_;
  pipeline::Engines engines_;
  std::shared_ptr<store::Store> store_;
  WorkerHost& host_;
  LiveCounters& counters_;
  Telemetry& telemetry_;
  TalkWords& words_;

  // Inbox.
  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::deque<AudioFrame> audio_in_;  // guarded by inbox_mu_
  int64_t audio_in_us_ = 0;          // guarded by inbox_mu_: the audio waiting in audio_in_
  int64_t audio_lost_us_ = 0;        // guarded by inbox_mu_: dropped at the full inbox, not yet marked
  std::deque<Command> commands_;     // guarded by inbox_mu_
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<int> pending_texts_{0};

  // Worker thread only.
  std::unique_ptr<audio::StreamResampler> resampler_;
  std::vector<float> samples_, resampled_;
  LoadShedder shedder_;
  int64_t last_arrival_us_ = 0;  // when the last frame fed arrived (or a typed caption moved the clock on)
  int64_t started_us_ = 0;       // when the pipeline was made
  size_t shed_targets_ = 0;      // targets when speech was last shed
  uint64_t words_revision_ = 0;  // the words revision the pipeline reflects
  uint32_t next_stream_serial_ = 1;
  int64_t next_seq_ = 1;
  std::deque<store::HistoryItem> finals_;           // the newest, with their translations
  std::map<uint64_t, int64_t> seq_of_utterance_;  // the newest 64
};

}  // namespace parley::session
