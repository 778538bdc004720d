// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/live_session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "engines/language.h"
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


template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
}  // namespace

std::shared_ptr<LiveSession> LiveSession::create(SessionInfo info, std::string token_hash,
                                                 pipeline::Engines engines,
                                                 std::shared_ptr<store::Store> store,
                                                 LiveConfig config, int64_t fence) {
  // The worker's thread and pipeline start when the session first goes
  // ACTIVE: a session nobody speaks in costs neither.
  std::shared_ptr<LiveSession> s(new LiveSession(std::move(info), std::move(token_hash),
                                                 std::move(engines), std::move(store),
                                                 std::move(config), false));
  s->fence_ = fence;
  s->listen_to_other_nodes();
  return s;
}

void LiveSession::listen_to_other_nodes() {
  auto& bus = config_.bus;
  if (!bus) return;
  // Other nodes tell this one who listens there, and pass on the state
  // changes their API was asked for.
  std::weak_ptr<LiveSession> weak = weak_from_this();
  bool listening = false;
  {
    std::lock_guard lock(subs_mu_);
    listening = audience_sub_ != nullptr;
  }
  if (!listening) {
    subscribe_as(&LiveSession::audience_sub_,
                 bus->subscribe(audience_topic(code_), [weak](std::string_view m) {
                   if (auto live = weak.lock()) live->on_audience(m);
                 }));
  }
  subscribe_as(&LiveSession::control_sub_,
               bus->subscribe(control_topic(code_), [weak](std::string_view m) {
                 if (auto live = weak.lock()) live->on_control(m);
               }));
}

void LiveSession::subscribe_as(std::unique_ptr<fanout::Bus::Subscription> LiveSession::*member,
                               std::unique_ptr<fanout::Bus::Subscription> subscription) {
  // Made, and the old one destroyed, outside the lock: a bus may call back
  // while subscribing or unsubscribing.
  {
    std::lock_guard lock(subs_mu_);
    std::swap(this->*member, subscription);
  }
  subscription.reset();
}

std::shared_ptr<LiveSession> LiveSession::create_view(SessionInfo info, std::string token_hash,
                                                      pipeline::Engines engines,
                                                      std::shared_ptr<store::Store> store,
                                                      LiveConfig config) {
  std::shared_ptr<LiveSession> s(new LiveSession(std::move(info), std::move(token_hash),
                                                 std::move(engines), std::move(store),
                                                 std::move(config), true));
  if (auto& bus = s->config_.bus) {
    std::weak_ptr<LiveSession> weak = s;
    // The session's log first (its finals and state changes), then live.
    s->subscribe_as(&LiveSession::bus_sub_, bus->subscribe(
                                                events_topic(s->code_),
                                                [weak](std::string_view m) {
                                                  if (auto live = weak.lock())
                                                    live->on_bus_event(m);
                                                },
                                                [weak] {
                                                  if (auto live = weak.lock()) live->on_caught_up();
                                                }));
    // Who listens on the other nodes: known here if this node takes over.
    s->subscribe_as(&LiveSession::audience_sub_,
                    bus->subscribe(audience_topic(s->code_), [weak](std::string_view m) {
                      if (auto live = weak.lock()) live->on_audience(m);
                    }));
  }
  return s;
}

LiveSession::LiveSession(SessionInfo info, std::string token_hash, pipeline::Engines engines,
                         std::shared_ptr<store::Store> store, LiveConfig config, bool view)
    : code_(info.code),
      token_hash_(std::move(token_hash)),
      engines_(std::move(engines)),
      store_(std::move(store)),
      config_(std::move(config)),
      info_(std::move(info)),
      last_activity_ms_(wall_clock_ms()) {
  if (!config_.telemetry) config_.telemetry = std::make_shared<Telemetry>();
  speaker_.set_dispatcher(config_.dispatcher);
  if (!config_.words_builder) config_.words_builder = std::make_shared<WordsBuilder>(4, 1);
  words_ = std::make_unique<TalkWords>(config_.words_builder, engines_.stt,
                                       info_.spec.source_language, [this](WordsCommand c) {
                                         // Before the worker runs, its starting snapshot holds
                                         // everything: nothing piles up in a session not yet
                                         // started.
                                         std::lock_guard lock(worker_mu_);
                                         if (worker_running_ && worker_)
                                           worker_->change_words(std::move(c));
                                       });
  producing_ = !view;
  {
    WorkerConfig wc;
    wc.session_id = info_.id;
    wc.code = code_;
    wc.spec = info_.spec;
    wc.audio_queue_frames = config_.audio_queue_frames;
    wc.finals_kept = config_.history_in_memory;
    wc.segmenter = config_.segmenter;
    wc.pace = config_.pace;
    wc.opus = config_.opus;
    wc.strong_words = config_.strong_words;
    worker_ =
        std::make_unique<Worker>(std::move(wc), engines_, store_, static_cast<WorkerHost&>(*this),
                                 counters_, *config_.telemetry, *words_);
  }
  // The source language and the default targets always have a channel:
  // their finals are kept from the first one.
  channel(info_.spec.source_language, true);
  for (const auto& l : info_.spec.default_targets) channel(l, true);
}

LiveSession::~LiveSession() {
  // The bus's calls stop first, then the worker's: both call into everything below.
  subscribe_as(&LiveSession::bus_sub_, nullptr);
  subscribe_as(&LiveSession::audience_sub_, nullptr);
  subscribe_as(&LiveSession::control_sub_, nullptr);
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard lock(worker_mu_);
    worker = std::move(worker_);
  }
  worker.reset();
}

SessionInfo LiveSession::info() const {
  std::lock_guard lock(info_mu_);
  return info_;
}

bool LiveSession::token_matches(std::string_view token) const {
  return digests_equal(hash_token(token), token_hash_);
}

int64_t LiveSession::idle_ms() const {
  return wall_clock_ms() - last_activity_ms_.load();
}

void LiveSession::touch() {
  last_activity_ms_ = wall_clock_ms();
}

// ---- state ----

core::Result<State> LiveSession::apply(Action action) {
  if (is_view()) {
    // The session's node decides; the change comes back over the bus.
    State now;
    {
      std::lock_guard lock(info_mu_);
      now = info_.state;
    }
    auto next = transition(now, action);
    if (!next) return next;
    if (config_.bus) config_.bus->publish(control_topic(code_), action_name(action), false);
    touch();
    return next;
  }
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
  if (action == Action::pause) worker_->flush();  // finish the utterance in flight
  publish(StateEvent{next});
  return next;
}

void LiveSession::let_go(const std::string& reason) {
  subscribe_as(&LiveSession::bus_sub_, nullptr);
  subscribe_as(&LiveSession::audience_sub_, nullptr);
  subscribe_as(&LiveSession::control_sub_, nullptr);
  std::vector<PendingJoin> waiting;
  {
    // Under the lock add_listener queues joins under: none is queued after.
    std::lock_guard lock(pending_mu_);
    closed_ = true;
    waiting.swap(pending_joins_);
  }
  for (auto& j : waiting) j.listener->close(reason);
  for (const auto& ch : all_channels()) ch->close(nullptr, reason);
  std::lock_guard lock(speaker_mu_);
  speaker_.close_all(reason);
  speaker_.clear();
}

void LiveSession::leave(const std::string& reason) {
  if (!config_.bus) return end(reason);
  if (is_view()) return end(reason);
  if (ended_.exchange(true)) return;
  {
    std::lock_guard lock(info_mu_);
    end_reason_ = reason;  // no goodbye is said: the reason goes to those let go here
  }
  leaving_ = true;
  {
    std::lock_guard lock(worker_mu_);
    if (worker_running_) {
      // The utterance in flight is finished and published first; then the
      // lease goes (worker_done), and the next node takes over at once.
      worker_->flush();
      worker_->stop();
      return;
    }
    worker_retired_ = true;
  }
  config_.bus->release(lease_name(code_), config_.node_id);
  let_go(reason);
  worker_exited_ = true;
}

void LiveSession::end(const std::string& reason) {
  if (is_view()) {
    // This node lets go of its listeners (it is shutting down, or the
    // session's node said goodbye): they reconnect elsewhere, or were told.
    if (ended_.exchange(true)) return;
    let_go(reason);
    worker_exited_ = true;
    return;
  }
  if (ended_.exchange(true)) return;
  words_->release();
  int64_t id = 0;
  {
    std::lock_guard lock(info_mu_);
    info_.state = State::ended;
    info_.ended_at_ms = wall_clock_ms();
    end_reason_ = reason;
    id = info_.id;
  }
  if (store_) {
    if (auto st = store_->set_state(id, State::ended, wall_clock_ms()); !st)
      core::log_error("session", st.message());
    store_counters(id);
  }
  {
    std::lock_guard lock(worker_mu_);
    if (!worker_running_) {
      // Never started: nothing is in flight, so the goodbye is said here, and
      // no worker will start.
      worker_retired_ = true;
      say_goodbye();
      worker_exited_ = true;
      return;
    }
  }
  // The worker finishes the utterance in flight, then says goodbye (worker_done).
  worker_->flush();
  worker_->stop();
}

void LiveSession::store_counters(int64_t id) {
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
    if (auto st = store_->set_metric(id, "peak_listeners." + language, static_cast<double>(n));
        !st) {
      core::log_error("session", st.message());
    }
  }
}

void LiveSession::start_worker() {
  std::lock_guard lock(worker_mu_);
  if (!producing_ || worker_running_ || worker_retired_) return;
  worker_running_ = true;  // before its snapshot: later words commands are posted
  std::vector<store::HistoryItem> known;
  {
    std::lock_guard relayed(relayed_mu_);
    for (auto& [seq, item] : relayed_) known.push_back(std::move(item));
    relayed_.clear();
  }
  worker_->start(last_seq_.load() + 1, std::move(known));
}

void LiveSession::worker_done() {
  // The worker's thread. Holding the session here makes its last reference,
  // if a goodbye lets go of it, drop at the end of this call, with nothing
  // of the worker touched after.
  auto self = weak_from_this().lock();
  if (self && leaving_) {
    config_.bus->release(lease_name(code_), config_.node_id);
    std::string reason;
    {
      std::lock_guard lock(info_mu_);
      reason = end_reason_;
    }
    let_go(reason);
  } else if (self && ended_) {
    say_goodbye();
  }
  worker_exited_ = true;
}

void LiveSession::say_goodbye() {
  std::string reason;
  {
    std::lock_guard lock(info_mu_);
    reason = end_reason_;
  }
  closed_ = true;
  publish(EndEvent{reason.empty() ? "ended" : reason});
  std::map<std::string, std::vector<std::shared_ptr<AudioTap>>> taps;
  {
    std::lock_guard lock(audience_mu_);
    taps.swap(taps_);
  }
  for (const auto& [language, list] : taps) {
    for (const auto& t : list) t->on_session_end();
  }
}

// ---- events to the audience ----

void LiveSession::publish(Event event) {
  // Deposed: the other nodes drop these by their fence; this node's own
  // audience must not read what theirs never will.
  if (deposed_) return;
  route(event);
  if (!config_.bus) return;
  // One copy for every other node. Captions and state changes are kept in
  // the session's log, for joiners and for nodes that missed them.
  if (is_kept(event) && fence_ > 0) {
    config_.bus->publish_fenced(events_topic(code_), encode_fenced(fence_, event), lease_name(code_), fence_);
  } else {
    config_.bus->publish(events_topic(code_), encode_fenced(fence_, event), is_kept(event));
  }
  // The log is capped (a few thousand events): the state is said again
  // now and then, so a node that reads the log of a long session (a view,
  // or the node taking it over) still learns it was started.
  if (std::holds_alternative<CaptionEvent>(event) && kept_since_state_.fetch_add(1) + 1 >= kRestateEvery) {
    kept_since_state_ = 0;
    State state;
    {
      std::lock_guard lock(info_mu_);
      state = info_.state;
    }
    config_.bus->publish_fenced(events_topic(code_), encode_fenced(fence_, StateEvent{state}), lease_name(code_),
                                fence_);
  }
}

void LiveSession::relay(const CaptionEvent& e) {
  std::lock_guard lock(relayed_mu_);
  auto& item = relayed_[e.seq];
  item.seq = e.seq;
  item.utterance_id = e.utterance_id;
  item.start_ms = e.start_ms;
  item.end_ms = e.end_ms;
  item.source_text = e.source;
  item.from_script = e.from_script;
  if (item.created_at_ms == 0) item.created_at_ms = e.at_ms > 0 ? e.at_ms : wall_clock_ms();
  if (e.language != info_.spec.source_language) {
    item.translations[e.language] = store::TranslationRow{e.language, e.text, "relayed", {}};
  }
  while (relayed_.size() > config_.history_in_memory) relayed_.erase(relayed_.begin());
}

void LiveSession::watch_utterances(std::weak_ptr<UtteranceWatcher> watcher) {
  std::lock_guard lock(watcher_mu_);
  watcher_ = std::move(watcher);
}

std::shared_ptr<UtteranceWatcher> LiveSession::watcher() {
  std::lock_guard lock(watcher_mu_);
  return watcher_.lock();
}

void LiveSession::route(const Event& event) {
  const auto& source = info_.spec.source_language;  // immutable
  std::visit(
      Overloaded{
          [&](const CaptionEvent& e) {
            if (e.language == source && !e.late) {
              if (auto w = watcher()) w->on_utterance_closed(e.utterance_id, true);
              if (open_utterance_ == e.utterance_id) open_utterance_ = 0;
            }
            auto ch = channel(e.language, true);
            if (!ch) return;
            if (e.language != source) {
              ch->publish(e);
              return;
            }
            std::lock_guard lock(speaker_mu_);
            auto m = ch->publish(e);
            last_seq_ = std::max(last_seq_.load(), e.seq);
            speaker_.broadcast_all(m);
          },
          [&](const PartialEvent& e) {
            if (e.language == source && e.utterance_id != open_utterance_) {
              open_utterance_ = e.utterance_id;
              if (auto w = watcher()) w->on_utterance_open(e.utterance_id);
            }
            auto ch = find_channel(e.language);
            auto m = ch ? ch->publish(e) : nullptr;
            if (e.language == source)
              speaker_.broadcast_all(
                  m ? m : wire::partial(e.utterance_id, e.revision, e.language, e.source, e.text));
          },
          [&](const SpeechEvent& e) {
            if (auto ch = find_channel(e.language)) ch->publish(e);
          },
          [&](const SpeechSkippedEvent& e) {
            if (auto ch = find_channel(e.language)) ch->publish(e);
          },
          [&](const DiscardEvent& e) {
            if (auto w = watcher()) w->on_utterance_closed(e.utterance_id, false);
            if (open_utterance_ == e.utterance_id) open_utterance_ = 0;
            auto m = wire::discard(e.utterance_id);
            speaker_.broadcast_all(m);
            for (const auto& ch : all_channels()) ch->broadcast(m);
          },
          [&](const StateEvent& e) {
            auto m = wire::state(e.state);
            for (const auto& ch : all_channels()) ch->broadcast(m);
            speaker_.broadcast_all(m);
          },
          [&](const EndEvent& e) {
            auto bye = wire::session_ended(e.reason);
            std::vector<std::shared_ptr<Channel>> channels;
            {
              // Under channels_mu_: no channel is made after this.
              std::lock_guard lock(channels_mu_);
              closed_ = true;
              for (const auto& [l, ch] : channels_) channels.push_back(ch);
            }
            for (const auto& ch : channels) ch->close(bye);
            std::lock_guard lock(speaker_mu_);
            speaker_.broadcast_all(bye);
            speaker_.close_all("session ended");
            speaker_.clear();
          },
      },
      event);
}

void LiveSession::to_speaker(fanout::MessagePtr message) {
  speaker_.broadcast_all(message);
}

std::shared_ptr<Channel> LiveSession::channel(const std::string& language, bool create) {
  std::lock_guard lock(channels_mu_);
  auto it = channels_.find(language);
  if (it != channels_.end()) return it->second;
  if (!create || closed_) return nullptr;
  auto ch = std::make_shared<Channel>(language, config_.history_in_memory, config_.dispatcher);
  channels_.emplace(language, ch);
  return ch;
}

std::shared_ptr<Channel> LiveSession::find_channel(const std::string& language) const {
  std::lock_guard lock(channels_mu_);
  auto it = channels_.find(language);
  return it == channels_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Channel>> LiveSession::all_channels() const {
  std::lock_guard lock(channels_mu_);
  std::vector<std::shared_ptr<Channel>> out;
  out.reserve(channels_.size());
  for (const auto& [l, ch] : channels_) out.push_back(ch);
  return out;
}

// ---- the speaker ----

core::Status LiveSession::attach_speaker(std::shared_ptr<fanout::Subscriber> speaker, bool takeover,
                                         std::optional<uint64_t> resume) {
  if (is_view()) {
    // The session's node holds its lease while it lives; once it has
    // stopped renewing it, this node takes the session over.
    take_over();  // given the lease at once (LocalBus), it runs here now
  }
  if (is_view()) {
    return core::unavailable("session " + code_ +
                             " runs on another node of this service; if that node " +
                             "stopped, it moves here within a few seconds: join again");
  }
  std::lock_guard attach(speaker_mu_);
  if (is_view()) {  // handed over since the check above (hand_over takes this lock)
    return core::unavailable("session " + code_ + " moved to another node of this service: join again");
  }
  if (closed_) return core::failed_precondition("the session has ended");
  if (speaker_.count(kSpeakerKey) != 0) {
    if (!takeover) {
      return core::failed_precondition("another speaker is connected to session " + code_ +
                                       "; join with \"takeover\": true to replace it");
    }
    if (resume && *resume != speaker_generation_) {
      return core::permission_denied("another page took over session " + code_ +
                                     " since this one lost its connection; reload to take it back");
    }
    speaker_.broadcast_all(
        wire::error("replaced", "another speaker connection took over this session"));
    speaker_.close_all("replaced by another speaker connection");
    speaker_.clear();
  }
  touch();
  {
    std::lock_guard lock(frames_mu_);
    have_audio_seq_ = false;  // a new connection numbers its frames afresh
    current_speaker_ = speaker.get();
  }
  wire::Welcome w{"speaker", info(), "",
                  last_seq_.load()};  // speaker_mu_ is held: no final in between
  w.speaker_generation = ++speaker_generation_;
  speaker->deliver(wire::welcome(w));
  speaker->deliver(wire::listeners(listener_counts()));
  speaker_.add(kSpeakerKey, std::move(speaker));
  speaker_seen_ms_ = core::now_ms();
  return {};
}

void LiveSession::detach_speaker(const fanout::Subscriber* speaker) {
  speaker_.remove(kSpeakerKey, speaker);
  speaker_seen_ms_ = core::now_ms();
}

core::Status LiveSession::push_audio(std::optional<uint32_t> frame_seq,
                                     std::span<const int16_t> pcm, int rate_hz,
                                     const fanout::Subscriber* source) {
  if (rate_hz < 8000 || rate_hz > 48000) {
    return core::invalid_argument("sample rate " + std::to_string(rate_hz) +
                                  " Hz is not supported; send 8000–48000 Hz (16000 preferred)");
  }
  if (pcm.size() > static_cast<size_t>(rate_hz * kMaxFrameSeconds)) {
    return core::invalid_argument("audio frame longer than 1 s; send 20–100 ms frames");
  }
  if (info_.spec.typed) {  // immutable after creation
    return core::failed_precondition("speech in " + engines::language_name(info_.spec.source_language) +
                                     " cannot be recognised on this server: type instead");
  }
  touch();
  if (frame_seq) {
    // Order is checked first, for every frame (a paused session's frames
    // too, so resuming counts no false gap).
    const uint32_t seq = *frame_seq;
    std::lock_guard lock(frames_mu_);
    // A connection that was replaced (takeover) may still have frames on the
    // way: they neither reach the session nor disturb the new numbering.
    if (source != nullptr && source != current_speaker_) {
      return core::failed_precondition("another speaker connection took over this session");
    }
    if (have_audio_seq_) {
      if (seq <= last_audio_seq_) {
        return core::invalid_argument("frame sequence " + std::to_string(seq) + " after " +
                                      std::to_string(last_audio_seq_) +
                                      "; sequence numbers must increase");
      }
      const uint64_t gap = static_cast<uint64_t>(seq) - last_audio_seq_ - 1;
      if (gap > kMaxSequenceGapFrames) {
        return core::invalid_argument(
            "frame sequence jumped from " + std::to_string(last_audio_seq_) + " to " +
            std::to_string(seq) + "; number frames 1, 2, 3, … (reconnect to start again)");
      }
      counters_.sequence_gaps.fetch_add(gap, std::memory_order_relaxed);
      config_.telemetry->totals.sequence_gaps.fetch_add(gap, std::memory_order_relaxed);
    }
    have_audio_seq_ = true;
    last_audio_seq_ = seq;
  }
  {
    std::lock_guard lock(info_mu_);
    if (info_.state != State::active) {
      counters_.audio_frames_ignored.fetch_add(1, std::memory_order_relaxed);
      config_.telemetry->totals.audio_frames_ignored.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
  }
  if (is_view())
    return core::failed_precondition("the speaker's audio goes to the session's own node");
  counters_.audio_frames_in.fetch_add(1, std::memory_order_relaxed);
  config_.telemetry->totals.audio_frames_in.fetch_add(1, std::memory_order_relaxed);
  tap_audio(info_.spec.source_language, pcm,
            rate_hz);  // relayed as it arrives, once it passed the checks
  worker_->push_audio(pcm, rate_hz);
  return {};
}

void LiveSession::end_of_audio() {
  if (!is_view() && !has_ended()) worker_->flush();
}

core::Status LiveSession::push_text(std::string text) {
  // Trim; typed captions are a sentence or two, not documents.
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return core::invalid_argument("the caption is empty");
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (text.size() > kMaxTypedCaptionBytes) {
    return core::invalid_argument("a typed caption holds at most " +
                                  std::to_string(kMaxTypedCaptionBytes) + " bytes");
  }
  {
    std::lock_guard lock(info_mu_);
    if (info_.state != State::active)
      return core::failed_precondition("start or resume the session to send captions");
  }
  if (is_view()) return core::failed_precondition("typed captions go to the session's own node");
  if (worker_->pending_texts() >= kMaxPendingTexts) {
    return core::resource_exhausted("too many typed captions waiting; slow down");
  }
  touch();
  worker_->push_text(std::move(text));
  return {};
}

// ---- the audience ----

bool LiveSession::reachable(const std::string& language) const {
  const auto& source = info_.spec.source_language;  // immutable after creation
  if (language == source) return true;
  return engines_.router && engines_.router->route(source, language).is_ok();
}

core::Status LiveSession::admit(const std::string& language) const {
  if (!reachable(language)) {
    return core::not_found("this session cannot be heard in '" + language +
                           "': no translation from '" + info_.spec.source_language +
                           "' is installed");
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
  for (const auto& ch : all_channels()) {
    if (ch->n_listeners() + ch->n_streams() != 0) targets.insert(ch->language());
  }
  {
    std::lock_guard lock(audience_mu_);
    for (const auto& [l, list] : taps_) targets.insert(l);
  }
  targets.erase(source);
  if (targets.size() >= config_.max_languages) {
    return core::resource_exhausted("session " + code_ + " is already translated into " +
                                    std::to_string(targets.size()) +
                                    " languages, its maximum; choose one of them");
  }
  return {};
}

void LiveSession::first_of(const std::string& language) {
  if (is_view()) {
    send_audience();  // the session's node starts translating at once
    return;
  }
  if (language != info_.spec.source_language) worker_->add_target(language);
}

size_t LiveSession::n_players() const {
  std::lock_guard lock(audience_mu_);
  size_t n = 0;
  for (const auto& [l, count] : players_) n += count;
  return n;
}

core::Status LiveSession::add_player(const std::string& language) {
  if (auto st = admit(language); !st) return st;
  std::lock_guard lock(audience_mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  ++players_[language];
  return {};
}

void LiveSession::remove_player(const std::string& language) {
  std::lock_guard lock(audience_mu_);
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
  if (is_view() && !caught_up_.load()) {
    // The session's log is still on its way from the bus: the listener is
    // welcomed once it is here, so `after_seq` counts against all of it.
    std::lock_guard lock(pending_mu_);
    if (closed_) return core::unavailable("this node let go of session " + code_ + "; join again");
    if (!caught_up_.load()) {
      // Those waiting count against the audience's cap (a flood of joins
      // while the bus is slow must not pile up here).
      if (pending_joins_.size() + n_audience() >= config_.max_audience) {
        return core::resource_exhausted("session " + code_ + " has its maximum of " +
                                        std::to_string(config_.max_audience) + " listeners");
      }
      pending_joins_.push_back({std::move(listener), language, after_seq, max_replay_bytes});
      return {};
    }
  }
  auto ch = channel(language, true);
  if (!ch) return core::failed_precondition("the session has ended");
  const bool heard_before = has_audience(language);
  auto joined =
      ch->join(std::move(listener), after_seq, max_replay_bytes, [&](int64_t replay_from_seq) {
        wire::Welcome w{"listener", snapshot, language, last_seq_.load()};
        if (replay_from_seq > 0) {
          w.replay_from_seq = replay_from_seq;
          w.since = after_seq;
        }
        return wire::welcome(w);
      });
  if (!joined) return joined.status();
  if (!heard_before) first_of(language);
  notify_speaker_counts();
  return {};
}

void LiveSession::remove_listener(const std::string& language, const fanout::Subscriber* listener) {
  {
    std::lock_guard lock(pending_mu_);
    std::erase_if(pending_joins_,
                  [&](const PendingJoin& p) { return p.listener.get() == listener; });
  }
  if (auto ch = find_channel(language)) ch->leave(listener);
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
  auto ch = channel(language, true);
  if (!ch) return core::failed_precondition("the session has ended");
  const bool heard_before = has_audience(language);
  if (auto added = ch->add_stream(std::move(stream)); !added) return added.status();
  if (!heard_before) first_of(language);
  return {};
}

void LiveSession::remove_audio_stream(const std::string& language,
                                      const fanout::Subscriber* stream) {
  if (auto ch = find_channel(language)) ch->remove_stream(stream);
  retire_if_unheard(language);
}

void LiveSession::retire_if_unheard(const std::string& language) {
  const auto& targets = info_.spec.default_targets;  // immutable after creation
  if (language != info_.spec.source_language &&
      std::find(targets.begin(), targets.end(), language) == targets.end() &&
      !has_audience(language)) {
    if (is_view()) {
      send_audience();
    } else {
      worker_->remove_target(language);
    }
  }
}

core::Status LiveSession::add_tap(const std::string& language, std::shared_ptr<AudioTap> tap) {
  if (!reachable(language)) {
    return core::not_found("this session cannot be heard in '" + language +
                           "': no translation from '" + info_.spec.source_language +
                           "' is installed");
  }
  const bool source = language == info_.spec.source_language;
  if (!source && !engines_.tts) return core::unavailable("speech synthesis is off on this server");
  touch();
  const bool heard_before = has_audience(language);
  {
    std::lock_guard lock(audience_mu_);  // the goodbye sets closed_, then takes the taps under it
    if (closed_) return core::failed_precondition("the session has ended");
    taps_[language].push_back(std::move(tap));
  }
  if (!heard_before) first_of(language);
  return {};
}

void LiveSession::remove_tap(const std::string& language, const AudioTap* tap) {
  {
    std::lock_guard lock(audience_mu_);
    auto it = taps_.find(language);
    if (it == taps_.end()) return;
    std::erase_if(it->second, [tap](const auto& t) { return t.get() == tap; });
    if (it->second.empty()) taps_.erase(it);
  }
  retire_if_unheard(language);
}

void LiveSession::count_speech_listener(const std::string& language, int delta) {
  std::lock_guard lock(audience_mu_);
  auto& n = speech_listeners_[language];
  n += delta;
  if (n <= 0) speech_listeners_.erase(language);
}

bool LiveSession::has_audio_subscribers(const std::string& language) const {
  if (auto ch = find_channel(language); ch && ch->n_streams() != 0) return true;
  std::lock_guard lock(audience_mu_);
  return taps_.count(language) != 0;
}

bool LiveSession::wants_speech(const std::string& language) const {
  if (has_audio_subscribers(language)) return true;
  if (auto r = remote_audience(); r.count(language) != 0 && r[language].hearing != 0) return true;
  std::lock_guard lock(audience_mu_);
  return speech_listeners_.count(language) != 0;
}

size_t LiveSession::n_hearing(const std::string& language) const {
  size_t n = has_audio_subscribers(language) ? 1 : 0;
  if (auto r = remote_audience(); r.count(language) != 0) n += r[language].hearing;
  std::lock_guard lock(audience_mu_);
  if (auto it = speech_listeners_.find(language); it != speech_listeners_.end() && it->second > 0) {
    n += static_cast<size_t>(it->second);
  }
  if (auto it = players_.find(language); it != players_.end()) n += it->second;
  return n;
}

bool LiveSession::has_audience(const std::string& language) const {
  if (auto ch = find_channel(language); ch && ch->n_listeners() + ch->n_streams() != 0) return true;
  if (auto r = remote_audience(); r.count(language) != 0 && r[language].listeners != 0) return true;
  std::lock_guard lock(audience_mu_);
  return taps_.count(language) != 0;
}

void LiveSession::tap_audio(const std::string& language, std::span<const int16_t> pcm,
                            int rate_hz) {
  std::vector<std::shared_ptr<AudioTap>> taps;
  {
    std::lock_guard lock(audience_mu_);
    auto it = taps_.find(language);
    if (it == taps_.end()) return;
    taps = it->second;
  }
  for (const auto& t : taps) t->on_audio(pcm, rate_hz);
}

bool LiveSession::report_playback(const std::string& language, int64_t seq, int64_t lag_ms,
                                  int64_t joined_us) {
  if (seq < 1 || seq > last_seq() || lag_ms < 0 || lag_ms > kMaxReportedLagMs) return false;
  if (language == info_.spec.source_language || !reachable(language)) return false;
  // Only speech that was sent (not skipped, not from before the join), and
  // no longer ago than its source speech ended, give or take a second of
  // clocks and network: a listener cannot claim more lag than has passed.
  auto ch = find_channel(language);
  if (!ch || !ch->heard_plausibly(seq, lag_ms, joined_us)) return false;
  config_.telemetry->pace.of(language).reported_lag.observe(static_cast<double>(lag_ms) / 1000.0);
  return true;
}

std::map<std::string, size_t> LiveSession::listener_counts() const {
  std::map<std::string, size_t> counts;
  for (const auto& ch : all_channels()) {
    if (const size_t n = ch->n_listeners(); n != 0) counts[ch->language()] = n;
  }
  return counts;
}

size_t LiveSession::n_listeners() const {
  size_t n = 0;
  for (const auto& ch : all_channels()) n += ch->n_listeners();
  return n;
}

size_t LiveSession::n_audience() const {
  size_t n = n_players();
  for (const auto& ch : all_channels()) n += ch->n_listeners() + ch->n_streams();
  return n;
}

void LiveSession::notify_speaker_counts() {
  auto counts = listener_counts();
  // Several nodes: the speaker hears of every node's listeners.
  for (const auto& [language, a] : remote_audience()) counts[language] += a.listeners;
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

// ---- several nodes ----


void LiveSession::on_bus_event(std::string_view message) {
  auto fenced = split_fenced(message);
  if (!fenced) return;
  // A node whose lease has passed to another may not know yet: what it
  // still sends is dropped.
  if (fenced->fence < newest_fence_.load()) return;
  // Fences count up from Redis's clock in ms (fanout/redis_bus.cpp): one
  // far beyond it was never handed out, and would make this view drop the
  // real node's events for ever.
  if (fenced->fence > wall_clock_ms() + kFenceAheadToleranceMs) {
    core::log_warn("bus", code_ + ": an event with a fence no lease had was dropped");
    return;
  }
  auto event = decode(fenced->event);
  if (!event || !plausible(*event)) {
    // Read before its fence is believed: one bad message must not make
    // this view drop every later event.
    core::log_warn("bus", code_ + ": an event this node cannot read was dropped");
    return;
  }
  newest_fence_ = fenced->fence;
  if (const auto* st = std::get_if<StateEvent>(&*event)) {
    std::lock_guard lock(info_mu_);
    if (info_.state != State::ended) info_.state = st->state;
    if (st->state == State::active && info_.started_at_ms == 0)
      info_.started_at_ms = wall_clock_ms();
  }
  if (std::holds_alternative<EndEvent>(*event)) {
    {
      std::lock_guard lock(info_mu_);
      info_.state = State::ended;
      info_.ended_at_ms = wall_clock_ms();
    }
    ended_ = true;
    closed_ = true;
    route(*event);
    worker_exited_ = true;  // nothing runs here: the registry may forget the view
    return;
  }
  if (const auto* c = std::get_if<CaptionEvent>(&*event)) relay(*c);
  route(*event);
}

std::string LiveSession::audience_summary() const {
  nlohmann::json languages = nlohmann::json::object();
  std::map<std::string, RemoteAudience> here;
  for (const auto& ch : all_channels()) {
    auto& a = here[ch->language()];
    a.listeners += ch->n_listeners() + ch->n_streams();
    a.hearing += ch->n_streams();
  }
  {
    std::lock_guard lock(audience_mu_);
    for (const auto& [l, n] : speech_listeners_)
      here[l].hearing += static_cast<size_t>(std::max(0, n));
    for (const auto& [l, n] : players_) {
      here[l].listeners += n;
      here[l].hearing += n;
    }
  }
  for (const auto& [l, a] : here) {
    if (a.listeners != 0) languages[l] = {{"listeners", a.listeners}, {"hearing", a.hearing}};
  }
  return nlohmann::json{{"node", config_.node_id}, {"languages", languages}}.dump();
}

void LiveSession::send_audience(bool if_changed) {
  if (!config_.bus || has_ended()) return;
  auto summary = audience_summary();
  const int64_t now = core::now_ms();
  {
    // The heartbeat repeats an unchanged summary only every
    // kAudienceRefreshMs: with many sessions seen on many nodes, these are
    // most of what crosses Redis (docs/scaling.md).
    std::lock_guard lock(audience_sent_mu_);
    if (if_changed && summary == audience_sent_ && now - audience_sent_ms_ < kAudienceRefreshMs) return;
    audience_sent_ = summary;
    audience_sent_ms_ = now;
  }
  config_.bus->publish(audience_topic(code_), std::move(summary), false);
}

void LiveSession::on_audience(std::string_view message) {
  // Another node's audience of this session: {"node", "languages": {l: {listeners, hearing}}}.
  NodeAudience told;
  std::string node;
  try {
    auto j = nlohmann::json::parse(message);
    node = j.at("node").get<std::string>();
    for (const auto& [l, a] : j.at("languages").items()) {
      if (l.size() > 16) continue;
      told.languages[l] = {a.at("listeners").get<size_t>(), a.at("hearing").get<size_t>()};
    }
  } catch (const std::exception&) {
    core::log_warn("bus", code_ + ": an audience summary this node cannot read was dropped");
    return;
  }
  if (node.empty() || node == config_.node_id) return;
  told.seen_ms = core::now_ms();
  if (is_view()) {
    // Kept for the day this node takes the session over.
    std::lock_guard lock(audience_mu_);
    remote_[node] = std::move(told);
    return;
  }
  std::set<std::string> before, after;
  for (const auto& [l, a] : remote_audience()) before.insert(l);
  {
    std::lock_guard lock(audience_mu_);
    remote_[node] = std::move(told);
  }
  for (const auto& [l, a] : remote_audience()) after.insert(l);
  for (const auto& l : after) {
    if (before.count(l) == 0 && reachable(l)) first_of(l);
  }
  for (const auto& l : before) {
    if (after.count(l) == 0) retire_if_unheard(l);
  }
  notify_speaker_counts();
}

void LiveSession::on_control(std::string_view message) {
  if (message.rfind(kHandover, 0) == 0) {
    hand_over();
    return;
  }
  auto action = parse_action(message);
  if (!action) return;
  if (auto r = apply(*action); !r) core::log_info("session", code_ + ": " + r.status().message());
}

std::map<std::string, LiveSession::RemoteAudience> LiveSession::remote_audience() const {
  std::map<std::string, RemoteAudience> out;
  const int64_t now = core::now_ms();
  std::lock_guard lock(audience_mu_);
  for (const auto& [node, told] : remote_) {
    if (now - told.seen_ms > kAudienceTtlMs) continue;
    for (const auto& [l, a] : told.languages) {
      out[l].listeners += a.listeners;
      out[l].hearing += a.hearing;
    }
  }
  return out;
}

void LiveSession::tick() {
  if (!config_.bus) return;
  // Leaving, the lease is still renewed until the utterance in flight is
  // published (worker_done releases it): a lapse before would let the next
  // node number its first final like this node's last.
  const bool flushing = leaving_ && !deposed_ && !worker_exited_ && !is_view();
  if (has_ended() && !flushing) return;
  if (is_view()) {
    send_audience(/*if_changed=*/true);
    return;
  }
  std::weak_ptr<LiveSession> weak = weak_from_this();
  config_.bus->renew(
      lease_name(code_), config_.node_id, kLeaseTtlMs, [weak](std::optional<int64_t> fence) {
        auto live = weak.lock();
        if (!live || fence) return;
        // Cut off from the bus for longer than the lease, and another node
        // runs the session now: its events win over this node's (fencing).
        live->leases_lost_.fetch_add(1);
        live->config_.telemetry->nodes.leases_lost.fetch_add(1);
        core::log_error("session", live->code_ + ": this node's lease on the session was lost");
        live->depose();
      });
  if (flushing) return;
  // Nodes that stopped telling (gone, or cut off): their languages may go.
  std::set<std::string> expired;
  {
    const int64_t now = core::now_ms();
    std::lock_guard lock(audience_mu_);
    for (auto it = remote_.begin(); it != remote_.end();) {
      if (now - it->second.seen_ms > kAudienceTtlMs) {
        for (const auto& [l, a] : it->second.languages) expired.insert(l);
        it = remote_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& l : expired) retire_if_unheard(l);
}

void LiveSession::take_over() {
  if (!config_.bus || has_ended()) return;
  // One request at a time; one the bus never answered (it was down) is
  // given up after a few seconds.
  const int64_t now = core::now_ms();
  if (taking_over_.exchange(true) && now - take_over_since_ms_.load() < 3000) return;
  take_over_since_ms_ = now;
  std::weak_ptr<LiveSession> weak = weak_from_this();
  config_.bus->acquire(
      lease_name(code_), config_.node_id, kLeaseTtlMs, [weak](std::optional<int64_t> fence) {
        auto live = weak.lock();
        if (!live) return;
        if (fence) {
          live->promote(*fence);
        } else {
          // Its node lives: asked to hand the session over
          // (it does while nothing runs there yet).
          live->config_.bus->publish(control_topic(live->code_),
                                     std::string(kHandover) + live->config_.node_id, false);
        }
        live->taking_over_ = false;
      });
}

void LiveSession::promote(int64_t fence) {
  if (has_ended() || producing_) return;
  {
    // Not before the session's log is read: its state and its last final
    // are where this node carries on from.
    std::lock_guard lock(pending_mu_);
    if (!caught_up_) {
      promote_with_fence_ = fence;
      return;
    }
  }
  // The log has been read (the old node stopped renewing long enough ago):
  // this node numbers the session's finals from the next one on.
  subscribe_as(&LiveSession::bus_sub_, nullptr);
  fence_ = fence;
  newest_fence_ = fence;
  speaker_seen_ms_ = core::now_ms();  // its speaker, who asked for it, joins again soon
  producing_ = true;
  listen_to_other_nodes();
  config_.telemetry->nodes.taken_over.fetch_add(1);
  core::log_info("session", code_ + ": its node stopped; this node runs it now (lease " +
                                std::to_string(fence) + ", from final " +
                                std::to_string(last_seq_.load() + 1) + ")");
  // Finals the old node may have numbered but not yet stored when it
  // stopped: this node writes what it heard of them, where rows are missing.
  if (store_) {
    std::lock_guard lock(relayed_mu_);
    for (auto& [seq, item] : relayed_) {
      auto copy = item;
      copy.fill_only = true;
      if (auto st = store_->add_utterance(info_.id, copy); !st)
        core::log_error("store", st.message());
    }
  }
  for (const auto& [l, a] : remote_audience()) first_of(l);
  for (const auto& ch : all_channels()) {
    if (ch->n_listeners() + ch->n_streams() != 0) first_of(ch->language());
  }
  State state;
  {
    std::lock_guard lock(info_mu_);
    state = info_.state;
  }
  // The state again, under this node's fence, first: every view learns the
  // new fence at once, and from then on drops anything the old node still
  // had queued (it may come back from a cut-off with it).
  publish(StateEvent{state});
  if (state == State::active || state == State::paused) start_worker();
}

void LiveSession::on_caught_up() {
  std::vector<PendingJoin> joins;
  int64_t fence = 0;
  {
    std::lock_guard lock(pending_mu_);
    caught_up_ = true;
    joins.swap(pending_joins_);
    fence = std::exchange(promote_with_fence_, 0);
  }
  if (fence > 0) promote(fence);
  for (auto& j : joins) {
    auto* raw = j.listener.get();
    auto keep = j.listener;
    if (auto st = add_listener(std::move(j.listener), j.language, j.after_seq, j.max_replay_bytes);
        !st) {
      raw->deliver(wire::error(core::code_name(st.code()), st.message()));
      raw->close("cannot listen");
    }
  }
}

void LiveSession::depose() {
  if (deposed_.exchange(true)) return;
  leave("another node of this service runs the session now; reconnect");
}

void LiveSession::hand_over() {
  // A session moves to the node its speaker joined only while no speaker
  // is connected here (and, if it ran here, none was for kHandOverAfterMs).
  // One whose pipeline never ran here (created through one node, spoken to
  // through another) becomes a view at once: nothing is in flight, its
  // listeners stay. One that ran finishes the utterance in
  // flight and publishes it first, then lets go (leave()); its listeners
  // here reconnect to a view, with `since`, and miss nothing.
  {
    std::lock_guard lock(worker_mu_);
    if (!producing_ || worker_retired_ || has_ended()) return;
    std::lock_guard speaker(speaker_mu_);
    if (speaker_.count(kSpeakerKey) != 0) return;
    // One whose speaker was here a moment ago (or that was just taken over
    // for a speaker who comes back) stays: a speaker trying nodes in turn
    // must not bounce it between them.
    if (worker_running_ && core::now_ms() - speaker_seen_ms_.load() < kHandOverAfterMs) return;
    if (!worker_running_) producing_ = false;
  }
  if (!is_view()) {
    core::log_info("session", code_ + ": its speaker joined another node; the session moves there");
    config_.telemetry->nodes.handed_over.fetch_add(1);
    leave("the session moved to another node of this service; reconnect");
    return;
  }
  core::log_info("session", code_ + ": handed over to the node its speaker joined");
  config_.telemetry->nodes.handed_over.fetch_add(1);
  subscribe_as(&LiveSession::control_sub_, nullptr);
  config_.bus->release(lease_name(code_), config_.node_id);
  caught_up_ = false;
  std::weak_ptr<LiveSession> weak = weak_from_this();
  subscribe_as(&LiveSession::bus_sub_, config_.bus->subscribe(
                                           events_topic(code_),
                                           [weak](std::string_view m) {
                                             if (auto live = weak.lock()) live->on_bus_event(m);
                                           },
                                           [weak] {
                                             if (auto live = weak.lock()) live->on_caught_up();
                                           }));
}

}  // namespace parley::session
