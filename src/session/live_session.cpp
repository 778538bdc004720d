// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/live_session.h"

#include <algorithm>
#include <set>

#include "audio/pcm.h"
#include "core/clock.h"
#include "core/log.h"
#include "session/wire.h"

namespace parley::session {

namespace {
constexpr const char* kSpeakerKey = "speaker";
// Longest speaker frame accepted: one second at the declared rate.
constexpr int kMaxFrameSeconds = 1;
constexpr size_t kMaxTypedCaptionBytes = 2000;
// Typed captions waiting for the worker; more are refused (resource_exhausted).
constexpr int kMaxPendingTexts = 64;
// A larger jump in frame numbers is refused, not counted as lost audio: a
// minute of 20 ms frames.
constexpr uint64_t kMaxSequenceGapFrames = 3000;

double ms_between(int64_t from_us, int64_t to_us) { return core::elapsed_ms(from_us, to_us); }
// Seconds between two stamps for a histogram; negative (not observed) when either is unset.
double seconds_between(int64_t from_us, int64_t to_us) { return core::elapsed_ms(from_us, to_us) / 1000.0; }
}  // namespace

// Forwards pipeline callbacks to the session (worker thread).
class LiveSession::Events final : public pipeline::PipelineListener {
 public:
  explicit Events(LiveSession& s) : s_(s) {}
  void on_partial(uint64_t id, uint32_t rev, const std::string& text) override { s_.on_partial(id, rev, text); }
  void on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang,
                              const std::string& text) override {
    s_.on_partial_translation(id, rev, lang, text);
  }
  void on_final(const pipeline::Utterance& u) override { s_.on_final(u); }
  void on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t) override {
    s_.on_translation(u, t);
  }
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech& speech) override {
    s_.on_speech_end(u, t, speech);
  }
  void on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t) override {
    s_.on_speech_skipped(u, t);
  }
  bool wants_speech(const std::string& language) const override { return s_.wants_speech(language); }
  void on_error(const core::Status& st) override { s_.on_error(st); }

 private:
  LiveSession& s_;
};

std::shared_ptr<LiveSession> LiveSession::create(SessionInfo info, std::string token_hash,
                                                 pipeline::Engines engines,
                                                 std::shared_ptr<store::Store> store,
                                                 LiveConfig config) {
  // The worker (a thread and the speech pipeline) starts when the session
  // first goes ACTIVE: a session nobody speaks in costs neither.
  return std::shared_ptr<LiveSession>(new LiveSession(std::move(info), std::move(token_hash),
                                                      std::move(engines), std::move(store),
                                                      std::move(config)));
}

LiveSession::LiveSession(SessionInfo info, std::string token_hash, pipeline::Engines engines,
                         std::shared_ptr<store::Store> store, LiveConfig config)
    : code_(info.code),
      token_hash_(std::move(token_hash)),
      engines_(std::move(engines)),
      store_(std::move(store)),
      config_(std::move(config)),
      info_(std::move(info)),
      last_activity_ms_(wall_clock_ms()) {
  if (!config_.telemetry) config_.telemetry = std::make_shared<Telemetry>();
  for (auto* hub : {&listeners_, &streams_, &speaker_}) hub->set_dispatcher(config_.dispatcher);
  if (!config_.words_builder) config_.words_builder = std::make_shared<WordsBuilder>(4, 1);
  // `this` outlives words_ (declared last, destroyed first).
  words_ = std::make_unique<TalkWords>(config_.words_builder, engines_.stt, info_.spec.source_language,
                                       [this](WordsCommand c) {
                                         // Before the worker runs, its starting snapshot holds
                                         // everything: nothing piles up in a session not yet started.
                                         if (worker_started_.load()) post(std::move(c));
                                       });
}

void LiveSession::bump(std::atomic<uint64_t> LiveCounters::*field, uint64_t n) {
  (counters_.*field).fetch_add(n, std::memory_order_relaxed);
  (config_.telemetry->totals.*field).fetch_add(n, std::memory_order_relaxed);
}

LiveSession::~LiveSession() {
  post(Stop{});
  std::lock_guard lock(worker_mu_);
  if (worker_.joinable()) {
    if (worker_.get_id() == std::this_thread::get_id()) {
      worker_.detach();  // the worker dropped the last reference; it exits next
    } else {
      worker_.join();
    }
  }
}

SessionInfo LiveSession::info() const {
  std::lock_guard lock(info_mu_);
  return info_;
}

bool LiveSession::token_matches(std::string_view token) const {
  return digests_equal(hash_token(token), token_hash_);
}

int64_t LiveSession::last_seq() const {
  std::lock_guard lock(fan_mu_);
  return next_seq_ - 1;
}

int64_t LiveSession::idle_ms() const { return wall_clock_ms() - last_activity_ms_.load(); }

void LiveSession::touch() { last_activity_ms_ = wall_clock_ms(); }

core::Result<State> LiveSession::apply(Action action) {
  if (action == Action::end) {
    {
      std::lock_guard lock(info_mu_);
      if (info_.state == State::ended) return transition(State::ended, action);
    }
    end("ended by the speaker");
    return State::ended;
  }
  State next;
  int64_t id = 0;
  const int64_t now = wall_clock_ms();
  {
    std::lock_guard lock(info_mu_);
    auto t = transition(info_.state, action);
    if (!t) return t;
    next = *t;
    info_.state = next;
    if (next == State::active && info_.started_at_ms == 0) info_.started_at_ms = now;
    id = info_.id;
  }
  touch();
  if (store_) {
    if (auto st = store_->set_state(id, next, now); !st) core::log_error("session", st.message());
  }
  if (next == State::active) start_worker();
  if (action == Action::pause) post(Flush{});  // finish the utterance in flight
  auto msg = wire::state(next);
  listeners_.broadcast_all(msg);
  speaker_.broadcast_all(msg);
  return next;
}

void LiveSession::end(const std::string& reason) {
  if (ended_.exchange(true)) return;
  words_->release();
  int64_t id = 0;
  {
    std::lock_guard lock(info_mu_);
    info_.state = State::ended;
    info_.ended_at_ms = wall_clock_ms();
    id = info_.id;
  }
  if (store_) {
    if (auto st = store_->set_state(id, State::ended, wall_clock_ms()); !st) core::log_error("session", st.message());
    const std::pair<const char*, const std::atomic<uint64_t>*> metrics[] = {
        {"utterances", &counters_.utterances},
        {"translations", &counters_.translations},
        {"audio_frames_in", &counters_.audio_frames_in},
        {"audio_frames_dropped", &counters_.audio_frames_dropped},
        {"sequence_gaps", &counters_.sequence_gaps},
        {"engine_errors", &counters_.engine_errors},
        {"partial_words_shown", &counters_.partial_words_shown},
        {"partial_words_retracted", &counters_.partial_words_retracted}};
    for (const auto& [key, value] : metrics) {
      if (auto st = store_->set_metric(id, key, static_cast<double>(value->load())); !st) {
        core::log_error("session", st.message());
      }
    }
    const pipeline::RetractionCount partials{counters_.partial_words_shown.load(),
                                             counters_.partial_words_retracted.load()};
    if (auto st = store_->set_metric(id, "partial_retraction_rate", partials.rate()); !st) {
      core::log_error("session", st.message());
    }
    for (const auto& [language, n] : peak_listeners()) {
      if (auto st = store_->set_metric(id, "peak_listeners." + language, static_cast<double>(n)); !st) {
        core::log_error("session", st.message());
      }
    }
  }
  // The worker finishes the utterance in flight, then says goodbye (see Stop).
  {
    std::lock_guard lock(inbox_mu_);
    end_reason_ = reason;
  }
  {
    std::lock_guard lock(worker_mu_);
    if (!worker_.joinable()) {
      // Never started: nothing is in flight, so the goodbye is said here, and
      // no worker will start.
      worker_retired_ = true;
      say_goodbye();
      worker_exited_ = true;
      return;
    }
  }
  post(Flush{});
  post(Stop{});
}

core::Status LiveSession::attach_speaker(std::shared_ptr<fanout::Subscriber> speaker, bool takeover) {
  std::lock_guard attach(speaker_mu_);
  std::lock_guard fan(fan_mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  if (speaker_.count(kSpeakerKey) != 0) {
    if (!takeover) {
      return core::failed_precondition("another speaker is connected to session " + code_ +
                                       "; join with \"takeover\": true to replace it");
    }
    speaker_.broadcast_all(wire::error("replaced", "another speaker connection took over this session"));
    speaker_.close_all("replaced by another speaker connection");
    speaker_.clear();
  }
  touch();
  {
    std::lock_guard lock(inbox_mu_);
    have_audio_seq_ = false;  // a new connection numbers its frames afresh
    current_speaker_ = speaker.get();
  }
  wire::Welcome w{"speaker", info(), "", next_seq_ - 1};  // fan_mu_ is held
  speaker->deliver(wire::welcome(w));
  speaker->deliver(wire::listeners(listeners_.counts()));
  speaker_.add(kSpeakerKey, std::move(speaker));
  return {};
}

void LiveSession::detach_speaker(const fanout::Subscriber* speaker) { speaker_.remove(kSpeakerKey, speaker); }

core::Status LiveSession::push_audio(std::optional<uint32_t> frame_seq, std::span<const int16_t> pcm, int rate_hz,
                                     const fanout::Subscriber* source) {
  if (rate_hz < 8000 || rate_hz > 48000) {
    return core::invalid_argument("sample rate " + std::to_string(rate_hz) +
                                  " Hz is not supported; send 8000–48000 Hz (16000 preferred)");
  }
  if (pcm.size() > static_cast<size_t>(rate_hz * kMaxFrameSeconds)) {
    return core::invalid_argument("audio frame longer than 1 s; send 20–100 ms frames");
  }
  touch();
  if (frame_seq) {
    // Order is checked first, for every frame (a paused session's frames
    // too, so resuming counts no false gap).
    const uint32_t seq = *frame_seq;
    std::lock_guard lock(inbox_mu_);
    // A connection that was replaced (takeover) may still have frames on the
    // way: they neither reach the session nor disturb the new numbering.
    if (source != nullptr && source != current_speaker_) {
      return core::failed_precondition("another speaker connection took over this session");
    }
    if (have_audio_seq_) {
      if (seq <= last_audio_seq_) {
        return core::invalid_argument("frame sequence " + std::to_string(seq) + " after " +
                                      std::to_string(last_audio_seq_) + "; sequence numbers must increase");
      }
      const uint64_t gap = static_cast<uint64_t>(seq) - last_audio_seq_ - 1;
      if (gap > kMaxSequenceGapFrames) {
        return core::invalid_argument("frame sequence jumped from " + std::to_string(last_audio_seq_) + " to " +
                                      std::to_string(seq) + "; number frames 1, 2, 3, … (reconnect to start again)");
      }
      bump(&LiveCounters::sequence_gaps, gap);
    }
    have_audio_seq_ = true;
    last_audio_seq_ = seq;
  }
  {
    std::lock_guard lock(info_mu_);
    if (info_.state != State::active) {
      bump(&LiveCounters::audio_frames_ignored);
      return {};
    }
  }
  bump(&LiveCounters::audio_frames_in);
  tap_audio(info_.spec.source_language, pcm, rate_hz);  // relayed as it arrives, once it passed the checks
  {
    std::lock_guard lock(inbox_mu_);
    if (audio_in_.size() >= config_.audio_queue_frames) {
      // The worker is behind: the oldest audio is the least useful. Half the
      // inbox goes at once, so the hole is one stretch of audio that the
      // worker can mark in the transcript where it happened.
      const size_t n = std::max<size_t>(1, audio_in_.size() / 2);
      for (size_t i = 0; i < n; ++i) {
        audio_in_us_ -= audio_in_.front().duration_us();
        audio_lost_us_ += audio_in_.front().duration_us();
        audio_in_.pop_front();
      }
      bump(&LiveCounters::audio_frames_dropped, n);
    }
    audio_in_.push_back({std::vector<int16_t>(pcm.begin(), pcm.end()), rate_hz, core::now_us()});
    audio_in_us_ += audio_in_.back().duration_us();
  }
  inbox_cv_.notify_one();
  return {};
}

void LiveSession::end_of_audio() {
  if (!has_ended()) post(Flush{});
}

core::Status LiveSession::push_text(std::string text) {
  // Trim; typed captions are a sentence or two, not documents.
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return core::invalid_argument("the caption is empty");
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (text.size() > kMaxTypedCaptionBytes) {
    return core::invalid_argument("a typed caption holds at most " + std::to_string(kMaxTypedCaptionBytes) + " bytes");
  }
  {
    std::lock_guard lock(info_mu_);
    if (info_.state != State::active) return core::failed_precondition("start or resume the session to send captions");
  }
  if (pending_texts_.load() >= kMaxPendingTexts) {
    return core::resource_exhausted("too many typed captions waiting; slow down");
  }
  touch();
  pending_texts_.fetch_add(1);
  post(Text{std::move(text)});
  return {};
}

bool LiveSession::reachable(const std::string& language) const {
  const auto& source = info_.spec.source_language;  // immutable after creation
  if (language == source) return true;
  return engines_.router && engines_.router->route(source, language).is_ok();
}

core::Status LiveSession::admit(const std::string& language) const {
  if (!reachable(language)) {
    return core::not_found("this session cannot be heard in '" + language + "': no translation from '" +
                           info_.spec.source_language + "' is installed");
  }
  if (n_audience() >= config_.max_audience) {
    return core::resource_exhausted("session " + code_ + " has its maximum of " +
                                    std::to_string(config_.max_audience) + " listeners");
  }
  const auto& source = info_.spec.source_language;  // immutable after creation
  const auto& defaults = info_.spec.default_targets;
  if (language == source || has_audience(language) ||
      std::find(defaults.begin(), defaults.end(), language) != defaults.end()) {
    return {};
  }
  // A new target language costs translation and synthesis for every
  // utterance: the number at once is capped.
  std::set<std::string> targets(defaults.begin(), defaults.end());
  for (const auto& [l, n] : listeners_.counts()) targets.insert(l);
  for (const auto& [l, n] : streams_.counts()) targets.insert(l);
  {
    std::lock_guard lock(taps_mu_);
    for (const auto& [l, list] : taps_) targets.insert(l);
  }
  targets.erase(source);
  if (targets.size() >= config_.max_languages) {
    return core::resource_exhausted("session " + code_ + " is already translated into " +
                                    std::to_string(targets.size()) + " languages, its maximum; choose one of them");
  }
  return {};
}

size_t LiveSession::n_players() const {
  std::lock_guard lock(players_mu_);
  size_t n = 0;
  for (const auto& [l, count] : players_) n += count;
  return n;
}

core::Status LiveSession::add_player(const std::string& language) {
  if (auto st = admit(language); !st) return st;
  std::lock_guard fan(fan_mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  std::lock_guard lock(players_mu_);
  ++players_[language];
  return {};
}

void LiveSession::remove_player(const std::string& language) {
  std::lock_guard lock(players_mu_);
  auto it = players_.find(language);
  if (it != players_.end() && --it->second == 0) players_.erase(it);
}

core::Status LiveSession::add_listener(std::shared_ptr<fanout::Subscriber> listener,
                                       const std::string& language, int64_t after_seq,
                                       size_t max_replay_bytes) {
  if (auto st = admit(language); !st) return st;
  touch();
  SessionInfo snapshot = info();
  if (snapshot.state == State::ended) return core::failed_precondition("the session has ended");
  const bool source = language == snapshot.spec.source_language;
  {
    std::lock_guard lock(fan_mu_);
    if (closed_) return core::failed_precondition("the session has ended");
    // Registered before anything is sent: a listener that the replay itself
    // overwhelms is evicted and leaves through remove_listener like any other,
    // instead of being added after it was closed.
    if (listeners_.add(language, listener) == 1 && !source) post(AddTarget{language});
    // The newest finals after `after_seq` that fit the budget, newest first;
    // older ones are fetched over REST (the welcome says which).
    std::vector<fanout::MessagePtr> replay;
    size_t replay_bytes = 0;
    int64_t replay_from_seq = history_.empty() ? next_seq_ : history_.front().seq;
    for (auto it = history_.rbegin(); it != history_.rend() && it->seq > after_seq; ++it) {
      if (!source && it->translations.count(language) == 0) continue;
      auto m = wire::final_caption(*it, language, true);
      if (replay_bytes + m->bytes.size() > max_replay_bytes) {
        replay_from_seq = it->seq + 1;
        break;
      }
      replay_bytes += m->bytes.size();
      replay.push_back(std::move(m));
    }
    wire::Welcome w{"listener", snapshot, language, next_seq_ - 1};
    if (replay_from_seq > after_seq + 1) {
      w.replay_from_seq = replay_from_seq;
      w.since = after_seq;
    }
    listener->deliver(wire::welcome(w));
    for (auto it = replay.rbegin(); it != replay.rend(); ++it) listener->deliver(*it);
  }
  notify_speaker_counts();
  return {};
}

void LiveSession::remove_listener(const std::string& language, const fanout::Subscriber* listener) {
  listeners_.remove(language, listener);
  retire_if_unheard(language);
  notify_speaker_counts();
}

core::Status LiveSession::check_audio_stream(const std::string& language) const {
  if (language == info_.spec.source_language || !reachable(language)) {
    return core::not_found("no translated speech in '" + language + "' for this session");
  }
  if (!engines_.tts) return core::unavailable("speech synthesis is off on this server");
  return admit(language);
}

core::Status LiveSession::add_audio_stream(std::shared_ptr<fanout::Subscriber> stream,
                                           const std::string& language) {
  if (auto st = check_audio_stream(language); !st) return st;
  touch();
  std::lock_guard lock(fan_mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  if (streams_.add(language, std::move(stream)) == 1 && listeners_.count(language) == 0) {
    post(AddTarget{language});
  }
  return {};
}

void LiveSession::remove_audio_stream(const std::string& language, const fanout::Subscriber* stream) {
  streams_.remove(language, stream);
  retire_if_unheard(language);
}

void LiveSession::retire_if_unheard(const std::string& language) {
  const auto& targets = info_.spec.default_targets;  // immutable after creation
  if (language != info_.spec.source_language &&
      std::find(targets.begin(), targets.end(), language) == targets.end() && !has_audience(language)) {
    post(RemoveTarget{language});
  }
}

core::Status LiveSession::add_tap(const std::string& language, std::shared_ptr<AudioTap> tap) {
  if (!reachable(language)) {
    return core::not_found("this session cannot be heard in '" + language + "': no translation from '" +
                           info_.spec.source_language + "' is installed");
  }
  const bool source = language == info_.spec.source_language;
  if (!source && !engines_.tts) return core::unavailable("speech synthesis is off on this server");
  touch();
  bool first = false;
  {
    std::lock_guard fan(fan_mu_);  // closed_; then taps_mu_ (the goodbye takes them in this order)
    if (closed_) return core::failed_precondition("the session has ended");
    std::lock_guard lock(taps_mu_);
    auto& list = taps_[language];
    first = list.empty();
    list.push_back(std::move(tap));
  }
  if (first && !source && listeners_.count(language) == 0 && streams_.count(language) == 0) {
    post(AddTarget{language});
  }
  return {};
}

void LiveSession::remove_tap(const std::string& language, const AudioTap* tap) {
  {
    std::lock_guard lock(taps_mu_);
    auto it = taps_.find(language);
    if (it == taps_.end()) return;
    std::erase_if(it->second, [tap](const auto& t) { return t.get() == tap; });
    if (it->second.empty()) taps_.erase(it);
  }
  retire_if_unheard(language);
}

void LiveSession::count_speech_listener(const std::string& language, int delta) {
  std::lock_guard lock(speech_mu_);
  auto& n = speech_listeners_[language];
  n += delta;
  if (n <= 0) speech_listeners_.erase(language);
}

bool LiveSession::has_audio_subscribers(const std::string& language) const {
  if (streams_.count(language) != 0) return true;
  std::lock_guard lock(taps_mu_);
  return taps_.count(language) != 0;
}

bool LiveSession::wants_speech(const std::string& language) const {
  if (has_audio_subscribers(language)) return true;
  std::lock_guard lock(speech_mu_);
  return speech_listeners_.count(language) != 0;
}

bool LiveSession::has_audience(const std::string& language) const {
  return listeners_.count(language) != 0 || has_audio_subscribers(language);
}

void LiveSession::tap_audio(const std::string& language, std::span<const int16_t> pcm, int rate_hz) const {
  std::vector<std::shared_ptr<AudioTap>> taps;
  {
    std::lock_guard lock(taps_mu_);
    auto it = taps_.find(language);
    if (it == taps_.end()) return;
    taps = it->second;
  }
  for (const auto& t : taps) t->on_audio(pcm, rate_hz);
}

void LiveSession::notify_speaker_counts() {
  auto counts = listeners_.counts();
  {
    std::lock_guard lock(info_mu_);
    for (const auto& [language, n] : counts) peaks_[language] = std::max(peaks_[language], n);
  }
  speaker_.broadcast_all(wire::listeners(counts));
}

std::map<std::string, size_t> LiveSession::peak_listeners() const {
  std::lock_guard lock(info_mu_);
  return peaks_;
}

void LiveSession::post(Command c) {
  {
    std::lock_guard lock(inbox_mu_);
    commands_.push_back(std::move(c));
  }
  inbox_cv_.notify_one();
}

void LiveSession::run_worker() {
  Events events(*this);
  pipeline::PipelineConfig pc;
  SessionInfo snapshot = info();
  pc.source_language = snapshot.spec.source_language;
  pc.targets = snapshot.spec.default_targets;
  pc.segmenter = config_.segmenter;
  pc.pace = config_.pace;
  pc.synthesize = engines_.tts != nullptr;
  pc.translate_partials = true;
  // The session's words as they are now; commands about them from before
  // this moment are already reflected (words_revision_).
  const auto words = words_->snapshot();
  words_revision_ = words.revision;
  pc.stt_adaptation = words.adaptation;
  pc.glossary = words.parsed_glossary;
  pc.lexicon = words.lexicon;
  if (snapshot.spec.hide_strong_words && config_.strong_words) pc.strong_words = *config_.strong_words;
  if (!words.script.empty()) pc.script.emplace(words.script);
  std::unique_ptr<pipeline::SpeakerPipeline> pipe;
  if (auto p = pipeline::SpeakerPipeline::create(engines_, pc, events); p) {
    pipe = std::move(*p);
  } else {
    bump(&LiveCounters::engine_errors);
    core::log_error("session", code_ + ": cannot start the pipeline: " + p.status().message());
    speaker_.broadcast_all(wire::error("engine", "the speech pipeline could not start: " + p.status().message()));
  }
  if (pipe && pipe->script() != nullptr && words.position > 0) {
    pipe->script()->seek_sentence(static_cast<size_t>(words.position));
  }
  bool stop = false;
  shedder_.count_into(&config_.telemetry->shed);
  while (!stop) {
    std::deque<Command> commands;
    std::optional<AudioFrame> frame;
    int64_t behind_us = 0, lost_us = 0;
    {
      std::unique_lock lock(inbox_mu_);
      inbox_cv_.wait(lock, [&] { return !commands_.empty() || !audio_in_.empty(); });
      commands.swap(commands_);
      if (commands.empty() && !audio_in_.empty()) {
        frame = std::move(audio_in_.front());
        audio_in_.pop_front();
        audio_in_us_ -= frame->duration_us();
      }
      behind_us = audio_in_us_;
      lost_us = std::exchange(audio_lost_us_, 0);
    }
    if (pipe && !stop) shed(*pipe, behind_us, lost_us);
    if (pipe && frame) {
      // The speaker paused, or the network stalled: the listeners' clock
      // went on without audio (the pace controller must not see a backlog
      // that has played out meanwhile).
      const int64_t quiet_us = frame->arrived_us - last_arrival_us_ - frame->duration_us();
      if (last_arrival_us_ > 0 && quiet_us > 1'000'000) pipe->skip_time(quiet_us / 1000);
      last_arrival_us_ = frame->arrived_us;
    }
    // An engine that throws costs its utterance, not the session: each
    // command is handled on its own, so a Stop after a failing Flush still
    // stops the worker.
    for (const auto& c : commands) {
      try {
        handle(c, pipe.get(), stop);
      } catch (const std::exception& e) {
        on_error(core::internal_error(std::string("the pipeline failed: ") + e.what()));
      }
    }
    if (!frame || !pipe || stop) continue;
    try {
      feed(*pipe, *frame);
    } catch (const std::exception& e) {
      on_error(core::internal_error(std::string("the pipeline failed: ") + e.what()));
    }
  }
  // Goodbye: everything in flight has been processed (Flush precedes Stop).
  if (ended_) say_goodbye();
  pipe.reset();  // the engines' streams go before the registry may forget us
  worker_exited_ = true;
}

void LiveSession::start_worker() {
  std::lock_guard lock(worker_mu_);
  if (worker_.joinable() || worker_retired_) return;
  worker_started_ = true;  // before its snapshot: later words commands are posted
  worker_ = std::thread([this] { run_worker(); });
}

void LiveSession::say_goodbye() {
  std::string reason;
  {
    std::lock_guard lock(inbox_mu_);
    reason = end_reason_;
  }
  {
    // Under fan_mu_: every add_* checks closed_ under it, so nobody joins
    // after the goodbye without being told.
    std::lock_guard lock(fan_mu_);
    closed_ = true;
    auto bye = wire::session_ended(reason.empty() ? "ended" : reason);
    listeners_.broadcast_all(bye);
    speaker_.broadcast_all(bye);
    listeners_.close_all("session ended");
    speaker_.close_all("session ended");
    streams_.close_all("session ended");
    listeners_.clear();
    speaker_.clear();
    streams_.clear();
  }
  {
    std::map<std::string, std::vector<std::shared_ptr<AudioTap>>> taps;
    {
      std::lock_guard lock(taps_mu_);
      taps.swap(taps_);
    }
    for (const auto& [language, list] : taps) {
      for (const auto& t : list) t->on_session_end();
    }
  }
}

void LiveSession::feed(pipeline::SpeakerPipeline& pipe, const AudioFrame& frame) {
  samples_ = audio::from_pcm16(frame.pcm);
  std::span<const float> in = samples_;
  if (frame.rate_hz != audio::kPipelineRateHz) {
    if (!resampler_ || resampler_->in_rate_hz() != frame.rate_hz) {
      auto r = audio::StreamResampler::create(frame.rate_hz, audio::kPipelineRateHz);
      if (!r) {
        on_error(r.status());
        return;
      }
      resampler_ = std::move(*r);
    }
    resampled_.clear();
    resampler_->process(samples_, resampled_);
    in = resampled_;
  }
  if (auto st = pipe.push_audio(in); !st) on_error(st);
}

void LiveSession::shed(pipeline::SpeakerPipeline& pipe, int64_t behind_us, int64_t lost_us) {
  const ShedStep before = shedder_.step();
  ShedStep newly = ShedStep::none;
  shedder_.update(behind_us / 1000, &newly);
  if (lost_us > 0) shedder_.dropped_audio(&newly);
  const ShedStep now = shedder_.step();
  if (newly != ShedStep::none) {
    core::log_warn("session", code_ + ": " + std::to_string(behind_us / 1000) + " ms behind real time: shedding up to step " +
                                  std::to_string(static_cast<int>(newly)) + " (" + shed_step_name(newly) + ")");
  } else if (shedder_.caught_up()) {
    core::log_warn("session", code_ + ": caught up with real time; nothing shed any more");
  }
  if (now != before || (static_cast<int>(now) >= static_cast<int>(ShedStep::speech) &&
                        pipe.n_targets() != shed_targets_)) {
    shed_targets_ = pipe.n_targets();
    pipeline::Shedding s;
    s.partial_translations = static_cast<int>(now) < static_cast<int>(ShedStep::partial_translations);
    s.partials = static_cast<int>(now) < static_cast<int>(ShedStep::partials);
    if (static_cast<int>(now) >= static_cast<int>(ShedStep::speech)) {
      // Speech only for the target language with the most audio listeners
      // (WebSocket listeners who take speech, WebRTC players, HTTP streams
      // and taps); the first target when none has any.
      const auto targets = pipe.targets();
      std::string keep = targets.empty() ? std::string() : targets.front();
      size_t most = 0;
      for (const auto& lang : targets) {
        size_t n = has_audio_subscribers(lang) ? 1 : 0;
        {
          std::lock_guard lock(speech_mu_);
          if (auto it = speech_listeners_.find(lang); it != speech_listeners_.end() && it->second > 0) {
            n += static_cast<size_t>(it->second);
          }
        }
        {
          std::lock_guard lock(players_mu_);
          if (auto it = players_.find(lang); it != players_.end()) n += it->second;
        }
        if (n > most) {
          most = n;
          keep = lang;
        }
      }
      for (const auto& lang : targets) {
        if (lang != keep) s.silent.push_back(lang);
      }
    }
    pipe.set_shedding(std::move(s));
  }
  // What was recognised before the hole is kept; the mark goes in right
  // after it, in order.
  if (lost_us > 0) {
    pipe.finish();
    mark_gap(pipe, lost_us);
  }
}

void LiveSession::mark_gap(pipeline::SpeakerPipeline& pipe, int64_t lost_us) {
  config_.telemetry->shed.gaps.fetch_add(1, std::memory_order_relaxed);
  config_.telemetry->shed.lost_ms.fetch_add(static_cast<uint64_t>(lost_us / 1000), std::memory_order_relaxed);
  store::HistoryItem item;
  item.start_ms = item.end_ms = pipe.position_ms();
  item.source_text = kGapMark;
  item.created_at_ms = wall_clock_ms();
  const auto targets = pipe.targets();
  for (const auto& lang : targets) item.translations[lang] = store::TranslationRow{lang, kGapMark, "gap", {}};
  publish_final(item, targets);
  if (store_) {
    if (auto st = store_->add_utterance(info().id, item); !st) core::log_error("store", st.message());
    for (const auto& [lang, row] : item.translations) (void)store_->add_translation(info().id, item.seq, row);
  }
}

void LiveSession::feed_waiting_audio(pipeline::SpeakerPipeline& pipe) {
  std::deque<AudioFrame> waiting;
  {
    std::lock_guard lock(inbox_mu_);
    waiting.swap(audio_in_);
    audio_in_us_ = 0;
  }
  for (const auto& f : waiting) feed(pipe, f);
}

void LiveSession::handle(const Command& c, pipeline::SpeakerPipeline* pipe, bool& stop) {
  if (std::holds_alternative<Stop>(c)) {
    stop = true;
    return;
  }
  if (!pipe) return;
  if (std::holds_alternative<Flush>(c)) {
    // Process what the speaker sent before the pause or end, then close the utterance.
    feed_waiting_audio(*pipe);
    pipe->finish();
  } else if (const auto* text = std::get_if<Text>(&c)) {
    pending_texts_.fetch_sub(1);
    feed_waiting_audio(*pipe);  // audio sent before the typed caption goes first
    pipe->submit_text(text->text);
  } else if (const auto* add = std::get_if<AddTarget>(&c)) {
    if (auto st = pipe->add_target(add->language); !st) {
      on_error(st);
      return;
    }
    backfill(add->language);
  } else if (const auto* rm = std::get_if<RemoveTarget>(&c)) {
    if (!has_audience(rm->language)) pipe->remove_target(rm->language);
  } else if (const auto* w = std::get_if<WordsCommand>(&c)) {
    apply_words(*pipe, *w);
  }
}

void LiveSession::apply_words(pipeline::SpeakerPipeline& pipe, const WordsCommand& c) {
  if (c.revision <= words_revision_) return;  // the pipeline started with it
  words_revision_ = c.revision;
  if (const auto* u = std::get_if<WordsUpdate>(&c.what)) {
    if (u->adaptation) pipe.use_adaptation(*u->adaptation);
    if (u->script) pipe.use_script(*u->script);
    if (u->glossary) pipe.use_glossary(*u->glossary);
    if (u->lexicon) pipe.use_lexicon(*u->lexicon);
  } else if (const auto* seek = std::get_if<ScriptSeek>(&c.what)) {
    if (auto* f = pipe.script()) f->seek_sentence(seek->sentence);
  } else if (const auto* more = std::get_if<ScriptAppend>(&c.what)) {
    if (auto* f = pipe.script()) f->append(more->text);
  }
}

void LiveSession::backfill(const std::string& language) {
  // Finals from before this language had listeners, so late joiners read them too.
  std::vector<std::pair<int64_t, std::string>> todo;
  {
    std::lock_guard lock(fan_mu_);
    for (const auto& item : history_) {
      if (item.translations.count(language) == 0) todo.emplace_back(item.seq, item.source_text);
    }
  }
  if (todo.empty()) return;
  auto tr = engines::mt::Translator::open(*engines_.router, info_.spec.source_language, language,
                                          nullptr, engines_.mt_cache);
  if (!tr) return;
  const int64_t id = info().id;
  for (const auto& [seq, text] : todo) {
    auto out = (*tr)->translate(text);
    if (!out) continue;
    store::TranslationRow row{language, out->text, (*tr)->route().describe(), {}};
    row.latencies.mt_ms = out->mt_ms;
    {
      std::lock_guard lock(fan_mu_);
      auto it = std::find_if(history_.begin(), history_.end(), [&](const auto& h) { return h.seq == seq; });
      if (it == history_.end() || it->translations.count(language) != 0) continue;
      it->translations[language] = row;
      listeners_.broadcast(language, wire::final_caption(*it, language, true));
    }
    if (store_) (void)store_->add_translation(id, seq, row);
  }
}

void LiveSession::on_partial(uint64_t id, uint32_t rev, const std::string& text) {
  const auto& source = info_.spec.source_language;
  auto m = wire::partial(id, rev, source, text, text);
  speaker_.broadcast_all(m);
  listeners_.broadcast(source, m);
}

void LiveSession::on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang,
                                         const std::string& text) {
  if (listeners_.count(lang) == 0) return;
  listeners_.broadcast(lang, wire::partial(id, rev, lang, "", text));
}

void LiveSession::on_final(const pipeline::Utterance& u) {
  bump(&LiveCounters::partial_words_shown, u.partials_shown.shown);
  bump(&LiveCounters::partial_words_retracted, u.partials_shown.retracted);
  bump(&LiveCounters::partial_words_shown_raw, u.partials_raw.shown);
  bump(&LiveCounters::partial_words_retracted_raw, u.partials_raw.retracted);
  config_.telemetry->ends.count(u.end_reason);
  if (u.text.empty()) {
    auto m = wire::discard(u.id);
    speaker_.broadcast_all(m);
    listeners_.broadcast_all(m);
    return;
  }
  bump(&LiveCounters::utterances);
  store::HistoryItem item;
  item.utterance_id = u.id;
  item.start_ms = u.start_ms;
  item.end_ms = u.end_ms;
  item.source_text = u.text;
  item.created_at_ms = wall_clock_ms();
  item.stt_ms = u.times.stt_ms;
  item.from_script = u.from_script;
  publish_final(item, {});
  if (u.script_sentence >= 0) {
    // Script mode: the speaker's page follows where they are.
    words_->note_position(u.script_sentence);
    speaker_.broadcast_all(wire::script_position(u.script_sentence, item.seq));
  }
  auto& tm = *config_.telemetry;
  const int64_t sent_us = core::now_us();
  tm.stt_final.observe(seconds_between(u.times.vad_end_us, u.times.stt_final_us));
  tm.final_caption.observe(seconds_between(u.times.last_audio_us, sent_us));
  record_timings(item.seq, {{"", "audio", u.times.first_audio_us, u.times.last_audio_us},
                            {"", "vad_end", u.times.last_audio_us, u.times.vad_end_us},
                            {"", "stt_final", u.times.last_audio_us, u.times.stt_final_us},
                            {"", "final_sent", u.times.last_audio_us, sent_us}});
  seq_of_utterance_[u.id] = item.seq;
  if (seq_of_utterance_.size() > 64) seq_of_utterance_.erase(seq_of_utterance_.begin());
  if (store_) {
    if (auto st = store_->add_utterance(info().id, item); !st) core::log_error("store", st.message());
  }
}

void LiveSession::publish_final(store::HistoryItem& item, const std::vector<std::string>& translated) {
  std::lock_guard lock(fan_mu_);
  item.seq = next_seq_++;
  history_.push_back(item);
  while (history_.size() > config_.history_in_memory) history_.pop_front();
  auto m = wire::final_caption(item, info_.spec.source_language, false);
  speaker_.broadcast_all(m);
  listeners_.broadcast(info_.spec.source_language, m);
  for (const auto& lang : translated) listeners_.broadcast(lang, wire::final_caption(item, lang, false));
}

void LiveSession::on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t) {
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end()) return;
  store::TranslationRow row{t.language, t.text, t.route, {}};
  row.latencies.stt_final_ms = ms_between(u.times.vad_end_us, u.times.stt_final_us);
  row.latencies.mt_ms = t.times.mt_ms;
  {
    std::lock_guard lock(fan_mu_);
    auto it = std::find_if(history_.rbegin(), history_.rend(), [&](const auto& h) { return h.seq == sit->second; });
    if (it == history_.rend()) return;
    it->translations[t.language] = row;
    listeners_.broadcast(t.language, wire::final_caption(*it, t.language, false, since_source_end_ms(u)));
  }
  bump(&LiveCounters::translations);
  auto& tm = *config_.telemetry;
  const int64_t sent_us = core::now_us();
  if (!t.cache_hit) tm.mt.observe(seconds_between(u.times.stt_final_us, t.times.mt_done_us));
  tm.translated_caption.observe(seconds_between(u.times.last_audio_us, sent_us));
  record_timings(sit->second, {{t.language, "mt_done", u.times.last_audio_us, t.times.mt_done_us},
                               {t.language, "translation_sent", u.times.last_audio_us, sent_us}});
  if (store_) (void)store_->add_translation(info().id, sit->second, row);
}

void LiveSession::on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                                const engines::tts::Speech& speech) {
  if (!has_audience(t.language)) return;
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end() || speech.audio.samples.empty()) return;
  tap_audio(t.language, audio::to_pcm16(speech.audio.samples), speech.audio.sample_rate_hz);
  const auto encode_start = core::now_us();
  auto ogg = audio::encode_ogg_opus(speech.audio, next_stream_serial_++, config_.opus);
  if (!ogg) {
    on_error(ogg.status());
    return;
  }
  auto& tm = *config_.telemetry;
  tm.encode.observe(seconds_between(encode_start, core::now_us()));
  tm.tts_first_audio.observe(seconds_between(t.times.mt_done_us, t.times.tts_first_audio_us));
  const auto duration_ms = static_cast<int64_t>(speech.audio.duration_s() * 1000);
  // The avatar's lip-sync travels in the same message as the audio it belongs to.
  const auto timeline = avatar::build_timeline(speech.phonemes, speech.audio.samples, speech.audio.sample_rate_hz);
  {
    std::lock_guard lock(spoken_mu_);
    auto& spoken = spoken_[t.language];
    const int64_t now = core::now_us();
    spoken.push_back({sit->second, now, now - since_source_end_ms(u) * 1000});
    if (spoken.size() > kSpokenKept) spoken.pop_front();
  }
  listeners_.broadcast(t.language, wire::speech(sit->second, u.id, duration_ms, timeline, *ogg));
  streams_.broadcast(t.language, fanout::make_binary(fanout::Kind::audio, std::move(*ogg)));
  bump(&LiveCounters::speech_utterances);
  const int64_t sent_us = core::now_us();
  tm.translated_speech.observe(seconds_between(u.times.last_audio_us, sent_us));
  observe_pace(t);
  record_timings(sit->second, {{t.language, "tts_first_audio", u.times.last_audio_us, t.times.tts_first_audio_us},
                               {t.language, "speech_sent", u.times.last_audio_us, sent_us}},
                 t.pace.wait_ms < 0 ? std::vector<store::StageTiming>{}
                                    : std::vector<store::StageTiming>{
                                          {t.language, "speech_wait", static_cast<double>(t.pace.wait_ms)},
                                          {t.language, "speech_end_lag", static_cast<double>(t.pace.end_lag_ms)}});
  if (store_) {
    store::TranslationRow row{t.language, t.text, t.route, {}};
    row.latencies.stt_final_ms = ms_between(u.times.vad_end_us, u.times.stt_final_us);
    row.latencies.mt_ms = t.times.mt_ms;
    row.latencies.tts_first_audio_ms = ms_between(u.times.vad_end_us, t.times.tts_first_audio_us);
    row.latencies.tts_ms = t.times.tts_ms;
    (void)store_->add_translation(info().id, sit->second, row);
  }
}

int64_t LiveSession::since_source_end_ms(const pipeline::Utterance& u) {
  if (u.times.vad_end_us == 0) return -1;
  // The source speech ended before the segmenter closed the utterance by the
  // silence after the last word.
  const int64_t after_source_end_ms = std::max<int64_t>(0, u.end_ms - pipeline::source_end_ms(u));
  return std::max<int64_t>(0, (core::now_us() - u.times.vad_end_us) / 1000 + after_source_end_ms);
}

void LiveSession::observe_pace(const pipeline::TranslationResult& t) {
  auto& pace = config_.telemetry->pace.of(t.language);
  if (t.pace.wait_ms < 0) return;
  pace.spoken.fetch_add(1, std::memory_order_relaxed);
  if (t.pace.rate > 1.0) pace.sped_up.fetch_add(1, std::memory_order_relaxed);
  if (t.pace.trimmed_ms > 0) pace.trimmed.fetch_add(1, std::memory_order_relaxed);
  pace.wait.observe(static_cast<double>(t.pace.wait_ms) / 1000.0);
  pace.end_lag.observe(static_cast<double>(t.pace.end_lag_ms) / 1000.0);
}

void LiveSession::on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t) {
  config_.telemetry->pace.of(t.language).skipped.fetch_add(1, std::memory_order_relaxed);
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end()) return;
  listeners_.broadcast(t.language, wire::speech_skipped(sit->second, t.language));
}

bool LiveSession::report_playback(const std::string& language, int64_t seq, int64_t lag_ms, int64_t joined_us) {
  if (seq < 1 || seq > last_seq() || lag_ms < 0 || lag_ms > kMaxReportedLagMs) return false;
  if (language == info_.spec.source_language || !reachable(language)) return false;
  {
    // Only speech that was sent (not skipped, not from before the join), and
    // no longer ago than its source speech ended, give or take a second of
    // clocks and network: a listener cannot claim more lag than has passed.
    std::lock_guard lock(spoken_mu_);
    auto it = spoken_.find(language);
    if (it == spoken_.end()) return false;
    auto s = std::find_if(it->second.begin(), it->second.end(), [&](const Spoken& x) { return x.seq == seq; });
    if (s == it->second.end() || s->sent_us < joined_us) return false;
    if (lag_ms > (core::now_us() - s->source_end_us) / 1000 + kReportSlackMs) return false;
  }
  config_.telemetry->pace.of(language).reported_lag.observe(static_cast<double>(lag_ms) / 1000.0);
  return true;
}

void LiveSession::record_timings(int64_t seq, std::initializer_list<Stage> stages,
                                 std::vector<store::StageTiming> measured) {
  if (!store_) return;
  std::vector<store::StageTiming> timings = std::move(measured);
  for (const auto& s : stages) {
    if (s.from_us == 0 || s.to_us == 0) continue;  // a stage never reached has no time
    timings.push_back({s.language, s.stage, ms_between(s.from_us, s.to_us)});
  }
  if (auto st = store_->add_timings(info().id, seq, timings); !st) core::log_error("store", st.message());
}

void LiveSession::on_error(const core::Status& s) {
  bump(&LiveCounters::engine_errors);
  core::log_warn("session", code_ + ": " + s.message());
  speaker_.broadcast_all(wire::error("engine", s.message()));
}

}  // namespace parley::session
