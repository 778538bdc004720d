// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/worker.h"

#include <algorithm>

#include "audio/pcm.h"
#include "core/clock.h"
#include "core/log.h"
#include "session/wire.h"

namespace parley::session {

namespace {
double ms_between(int64_t from_us, int64_t to_us) { return core::elapsed_ms(from_us, to_us); }
// Seconds between two stamps for a histogram; negative (not observed) when either is unset.
double seconds_between(int64_t from_us, int64_t to_us) { return core::elapsed_ms(from_us, to_us) / 1000.0; }

CaptionEvent caption_of(const store::HistoryItem& item, const std::string& language, const std::string& text) {
  CaptionEvent c;
  c.seq = item.seq;
  c.utterance_id = item.utterance_id;
  c.language = language;
  c.source = item.source_text;
  c.text = text;
  c.start_ms = item.start_ms;
  c.end_ms = item.end_ms;
  c.from_script = item.from_script;
  c.at_ms = item.created_at_ms;
  return c;
}
}  // namespace

// Forwards pipeline callbacks to the worker (its thread).
class Worker::Events final : public pipeline::PipelineListener {
 public:
  explicit Events(Worker& w) : w_(w) {}
  void on_partial(uint64_t id, uint32_t rev, const std::string& text) override { w_.on_partial(id, rev, text); }
  void on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang,
                              const std::string& text) override {
    w_.on_partial_translation(id, rev, lang, text);
  }
  void on_final(const pipeline::Utterance& u) override { w_.on_final(u); }
  void on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t) override {
    w_.on_translation(u, t);
  }
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech& speech) override {
    w_.on_speech_end(u, t, speech);
  }
  void on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t) override {
    w_.on_speech_skipped(u, t);
  }
  bool wants_speech(const std::string& language) const override { return w_.host_.wants_speech(language); }
  void on_error(const core::Status& st) override { w_.on_error(st); }

 private:
  Worker& w_;
};

Worker::Worker(WorkerConfig config, pipeline::Engines engines, std::shared_ptr<store::Store> store,
               WorkerHost& host, LiveCounters& counters, Telemetry& telemetry, TalkWords& words)
    : config_(std::move(config)),
      engines_(std::move(engines)),
      store_(std::move(store)),
      host_(host),
      counters_(counters),
      telemetry_(telemetry),
      words_(words),
      next_seq_(config_.first_seq) {}

Worker::~Worker() {
  post(Stop{});
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // the host's last owner let go of it here; the thread touches nothing more
  } else {
    thread_.join();
  }
}

void Worker::start(std::optional<int64_t> first_seq, std::vector<store::HistoryItem> known) {
  if (started_.exchange(true)) return;
  if (first_seq) next_seq_ = *first_seq;
  for (auto& item : known) {
    item.fill_only = false;
    finals_.push_back(std::move(item));
  }
  while (finals_.size() > config_.finals_kept) finals_.pop_front();
  thread_ = std::thread([this] { run(); });
}

void Worker::bump(std::atomic<uint64_t> LiveCounters::*field, uint64_t n) {
  (counters_.*field).fetch_add(n, std::memory_order_relaxed);
  (telemetry_.totals.*field).fetch_add(n, std::memory_order_relaxed);
}

void Worker::post(Command c) {
  if (std::holds_alternative<Text>(c)) pending_texts_.fetch_add(1);
  {
    std::lock_guard lock(inbox_mu_);
    commands_.push_back(std::move(c));
  }
  inbox_cv_.notify_one();
}

void Worker::push_audio(std::span<const int16_t> pcm, int rate_hz) {
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
}

void Worker::run() {
  Events events(*this);
  pipeline::PipelineConfig pc;
  pc.source_language = config_.spec.source_language;
  pc.targets = config_.spec.default_targets;
  pc.segmenter = config_.segmenter;
  pc.pace = config_.pace;
  pc.synthesize = engines_.tts != nullptr;
  pc.translate_partials = true;
  pc.recognise = !config_.spec.typed;
  // The session's words as they are now; commands about them from before
  // this moment are already reflected (words_revision_).
  const auto words = words_.snapshot();
  words_revision_ = words.revision;
  pc.stt_adaptation = words.adaptation;
  pc.glossary = words.parsed_glossary;
  pc.lexicon = words.lexicon;
  if (config_.spec.hide_strong_words && config_.strong_words) pc.strong_words = *config_.strong_words;
  if (!words.script.empty()) pc.script.emplace(words.script);
  std::unique_ptr<pipeline::SpeakerPipeline> pipe;
  started_us_ = core::now_us();
  if (auto p = pipeline::SpeakerPipeline::create(engines_, pc, events); p) {
    pipe = std::move(*p);
  } else {
    bump(&LiveCounters::engine_errors);
    core::log_error("session", config_.code + ": cannot start the pipeline: " + p.status().message());
    host_.to_speaker(wire::error("engine", "the speech pipeline could not start: " + p.status().message()));
  }
  if (pipe && pipe->script() != nullptr && words.position > 0) {
    pipe->script()->seek_sentence(static_cast<size_t>(words.position));
  }
  bool stop = false;
  shedder_.count_into(&telemetry_.shed);
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
    if (pipe) shed(*pipe, behind_us, lost_us);
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
  pipe.reset();  // the engines' streams go first
  host_.worker_done();  // last: the host may let go of this worker in it
}

void Worker::feed(pipeline::SpeakerPipeline& pipe, const AudioFrame& frame) {
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

void Worker::shed(pipeline::SpeakerPipeline& pipe, int64_t behind_us, int64_t lost_us) {
  const ShedStep before = shedder_.step();
  ShedStep newly = ShedStep::none;
  shedder_.update(behind_us / 1000, &newly);
  if (lost_us > 0) shedder_.dropped_audio(&newly);
  const ShedStep now = shedder_.step();
  if (newly != ShedStep::none) {
    core::log_warn("session", config_.code + ": " + std::to_string(behind_us / 1000) +
                                  " ms behind real time: shedding up to step " +
                                  std::to_string(static_cast<int>(newly)) + " (" + shed_step_name(newly) + ")");
  } else if (shedder_.caught_up()) {
    core::log_warn("session", config_.code + ": caught up with real time; nothing shed any more");
  }
  if (now != before || (static_cast<int>(now) >= static_cast<int>(ShedStep::speech) &&
                        pipe.n_targets() != shed_targets_)) {
    shed_targets_ = pipe.n_targets();
    pipeline::Shedding s;
    s.partial_translations = static_cast<int>(now) < static_cast<int>(ShedStep::partial_translations);
    s.partials = static_cast<int>(now) < static_cast<int>(ShedStep::partials);
    if (static_cast<int>(now) >= static_cast<int>(ShedStep::speech)) {
      // Speech only for the target language most people hear; the first
      // target when nobody hears any.
      const auto targets = pipe.targets();
      std::string keep = targets.empty() ? std::string() : targets.front();
      size_t most = 0;
      for (const auto& lang : targets) {
        if (const size_t n = host_.n_hearing(lang); n > most) {
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

void Worker::mark_gap(pipeline::SpeakerPipeline& pipe, int64_t lost_us) {
  telemetry_.shed.gaps.fetch_add(1, std::memory_order_relaxed);
  telemetry_.shed.lost_ms.fetch_add(static_cast<uint64_t>(lost_us / 1000), std::memory_order_relaxed);
  store::HistoryItem item;
  item.start_ms = item.end_ms = pipe.position_ms();
  item.source_text = kGapMark;
  item.created_at_ms = wall_clock_ms();
  for (const auto& lang : pipe.targets()) item.translations[lang] = store::TranslationRow{lang, kGapMark, "gap", {}};
  publish_final(item);
  if (store_ && host_.may_store()) {
    if (auto st = store_->add_utterance(config_.session_id, item); !st) core::log_error("store", st.message());
    for (const auto& [lang, row] : item.translations) (void)store_->add_translation(config_.session_id, item.seq, row);
  }
}

void Worker::feed_waiting_audio(pipeline::SpeakerPipeline& pipe) {
  std::deque<AudioFrame> waiting;
  {
    std::lock_guard lock(inbox_mu_);
    waiting.swap(audio_in_);
    audio_in_us_ = 0;
  }
  for (const auto& f : waiting) feed(pipe, f);
}

void Worker::handle(const Command& c, pipeline::SpeakerPipeline* pipe, bool& stop) {
  if (std::holds_alternative<Stop>(c)) {
    stop = true;
    return;
  }
  if (std::holds_alternative<Text>(c)) pending_texts_.fetch_sub(1);
  if (!pipe) return;
  if (std::holds_alternative<Flush>(c)) {
    // Process what the speaker sent before the pause or end, then close the utterance.
    feed_waiting_audio(*pipe);
    pipe->finish();
  } else if (const auto* text = std::get_if<Text>(&c)) {
    feed_waiting_audio(*pipe);  // audio sent before the typed caption goes first
    // The stream's clock is the speaker's audio; one who types with no
    // audio flowing (a conversation's typing participant, a muted
    // microphone) leaves it standing while the listeners' clock goes on:
    // what was queued for them has played meanwhile, as after a pause.
    const int64_t now = core::now_us();
    const int64_t quiet_us = now - (last_arrival_us_ > 0 ? last_arrival_us_ : started_us_);
    if (quiet_us > 1'000'000) pipe->skip_time(quiet_us / 1000);
    if (quiet_us > 1'000'000 || last_arrival_us_ == 0) last_arrival_us_ = now;
    pipe->submit_text(text->text);
  } else if (const auto* add = std::get_if<AddTarget>(&c)) {
    if (auto st = pipe->add_target(add->language); !st) {
      on_error(st);
      return;
    }
    backfill(add->language);
  } else if (const auto* rm = std::get_if<RemoveTarget>(&c)) {
    if (!host_.has_audience(rm->language)) pipe->remove_target(rm->language);
  } else if (const auto* w = std::get_if<WordsCommand>(&c)) {
    apply_words(*pipe, *w);
  }
}

void Worker::apply_words(pipeline::SpeakerPipeline& pipe, const WordsCommand& c) {
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

void Worker::backfill(const std::string& language) {
  // Finals from before this language had listeners, so late joiners read them too.
  std::vector<store::HistoryItem*> todo;
  for (auto& item : finals_) {
    if (item.translations.count(language) == 0) todo.push_back(&item);
  }
  if (todo.empty()) return;
  auto tr = engines::mt::Translator::open(*engines_.router, config_.spec.source_language, language, nullptr,
                                          engines_.mt_cache);
  if (!tr) return;
  for (auto* item : todo) {
    auto out = (*tr)->translate(item->source_text);
    if (!out) continue;
    store::TranslationRow row{language, out->text, (*tr)->route().describe(), {}};
    row.latencies.mt_ms = out->mt_ms;
    item->translations[language] = row;
    auto c = caption_of(*item, language, row.text);
    c.late = true;
    host_.publish(std::move(c));
    if (store_ && host_.may_store()) (void)store_->add_translation(config_.session_id, item->seq, row);
  }
}

void Worker::on_partial(uint64_t id, uint32_t rev, const std::string& text) {
  host_.publish(PartialEvent{id, rev, config_.spec.source_language, text, text});
}

void Worker::on_partial_translation(uint64_t id, uint32_t rev, const std::string& lang, const std::string& text) {
  host_.publish(PartialEvent{id, rev, lang, "", text});
}

void Worker::on_final(const pipeline::Utterance& u) {
  bump(&LiveCounters::partial_words_shown, u.partials_shown.shown);
  bump(&LiveCounters::partial_words_retracted, u.partials_shown.retracted);
  bump(&LiveCounters::partial_words_shown_raw, u.partials_raw.shown);
  bump(&LiveCounters::partial_words_retracted_raw, u.partials_raw.retracted);
  telemetry_.ends.count(u.end_reason);
  if (u.text.empty()) {
    host_.publish(DiscardEvent{u.id});
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
  publish_final(item);
  if (u.script_sentence >= 0) {
    // Script mode: the speaker's page follows where they are.
    words_.note_position(u.script_sentence);
    host_.to_speaker(wire::script_position(u.script_sentence, item.seq));
  }
  const int64_t sent_us = core::now_us();
  telemetry_.stt_final.observe(seconds_between(u.times.vad_end_us, u.times.stt_final_us));
  telemetry_.final_caption.observe(seconds_between(u.times.last_audio_us, sent_us));
  record_timings(item.seq, {{"", "audio", u.times.first_audio_us, u.times.last_audio_us},
                            {"", "vad_end", u.times.last_audio_us, u.times.vad_end_us},
                            {"", "stt_final", u.times.last_audio_us, u.times.stt_final_us},
                            {"", "final_sent", u.times.last_audio_us, sent_us}});
  seq_of_utterance_[u.id] = item.seq;
  if (seq_of_utterance_.size() > 64) seq_of_utterance_.erase(seq_of_utterance_.begin());
  if (store_ && host_.may_store()) {
    if (auto st = store_->add_utterance(config_.session_id, item); !st) core::log_error("store", st.message());
  }
}

void Worker::publish_final(store::HistoryItem& item) {
  item.seq = next_seq_++;
  finals_.push_back(item);
  while (finals_.size() > config_.finals_kept) finals_.pop_front();
  host_.publish(caption_of(item, config_.spec.source_language, item.source_text));
  for (const auto& [lang, row] : item.translations) host_.publish(caption_of(item, lang, row.text));
}

void Worker::on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t) {
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end()) return;
  auto it = std::find_if(finals_.rbegin(), finals_.rend(), [&](const auto& h) { return h.seq == sit->second; });
  if (it == finals_.rend()) return;
  store::TranslationRow row{t.language, t.text, t.route, {}};
  row.latencies.stt_final_ms = ms_between(u.times.vad_end_us, u.times.stt_final_us);
  row.latencies.mt_ms = t.times.mt_ms;
  it->translations[t.language] = row;
  auto c = caption_of(*it, t.language, t.text);
  c.since_end_ms = since_source_end_ms(u);
  if (c.since_end_ms >= 0) {
    telemetry_.directions.of(direction_label(config_.spec.source_language, t.language))
        .caption.observe(static_cast<double>(c.since_end_ms) / 1000.0);
  }
  host_.publish(std::move(c));
  bump(&LiveCounters::translations);
  const int64_t sent_us = core::now_us();
  if (!t.cache_hit) telemetry_.mt.observe(seconds_between(u.times.stt_final_us, t.times.mt_done_us));
  telemetry_.translated_caption.observe(seconds_between(u.times.last_audio_us, sent_us));
  record_timings(sit->second, {{t.language, "mt_done", u.times.last_audio_us, t.times.mt_done_us},
                               {t.language, "translation_sent", u.times.last_audio_us, sent_us}});
  if (store_ && host_.may_store()) (void)store_->add_translation(config_.session_id, sit->second, row);
}

void Worker::on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                           const engines::tts::Speech& speech) {
  if (!host_.has_audience(t.language)) return;
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end() || speech.audio.samples.empty()) return;
  host_.tap_audio(t.language, audio::to_pcm16(speech.audio.samples), speech.audio.sample_rate_hz);
  const auto encode_start = core::now_us();
  auto ogg = audio::encode_ogg_opus(speech.audio, next_stream_serial_++, config_.opus);
  if (!ogg) {
    on_error(ogg.status());
    return;
  }
  telemetry_.encode.observe(seconds_between(encode_start, core::now_us()));
  telemetry_.tts_first_audio.observe(seconds_between(t.times.mt_done_us, t.times.tts_first_audio_us));
  SpeechEvent e;
  e.seq = sit->second;
  e.utterance_id = u.id;
  e.language = t.language;
  e.duration_ms = static_cast<int64_t>(speech.audio.duration_s() * 1000);
  e.since_end_ms = since_source_end_ms(u);
  if (e.since_end_ms >= 0) {
    telemetry_.directions.of(direction_label(config_.spec.source_language, t.language))
        .speech.observe(static_cast<double>(e.since_end_ms) / 1000.0);
  }
  // The avatar's lip-sync travels in the same message as the audio it belongs to.
  e.timeline = avatar::build_timeline(speech.phonemes, speech.audio.samples, speech.audio.sample_rate_hz);
  e.ogg_opus = std::move(*ogg);
  host_.publish(std::move(e));
  bump(&LiveCounters::speech_utterances);
  const int64_t sent_us = core::now_us();
  telemetry_.translated_speech.observe(seconds_between(u.times.last_audio_us, sent_us));
  observe_pace(t);
  record_timings(sit->second, {{t.language, "tts_first_audio", u.times.last_audio_us, t.times.tts_first_audio_us},
                               {t.language, "speech_sent", u.times.last_audio_us, sent_us}},
                 t.pace.wait_ms < 0 ? std::vector<store::StageTiming>{}
                                    : std::vector<store::StageTiming>{
                                          {t.language, "speech_wait", static_cast<double>(t.pace.wait_ms)},
                                          {t.language, "speech_end_lag", static_cast<double>(t.pace.end_lag_ms)}});
  if (store_ && host_.may_store()) {
    store::TranslationRow row{t.language, t.text, t.route, {}};
    row.latencies.stt_final_ms = ms_between(u.times.vad_end_us, u.times.stt_final_us);
    row.latencies.mt_ms = t.times.mt_ms;
    row.latencies.tts_first_audio_ms = ms_between(u.times.vad_end_us, t.times.tts_first_audio_us);
    row.latencies.tts_ms = t.times.tts_ms;
    (void)store_->add_translation(config_.session_id, sit->second, row);
  }
}

int64_t Worker::since_source_end_ms(const pipeline::Utterance& u) {
  if (u.times.vad_end_us == 0) return -1;
  // The source speech ended before the segmenter closed the utterance by the
  // silence after the last word.
  const int64_t after_source_end_ms = std::max<int64_t>(0, u.end_ms - pipeline::source_end_ms(u));
  return std::max<int64_t>(0, (core::now_us() - u.times.vad_end_us) / 1000 + after_source_end_ms);
}

void Worker::observe_pace(const pipeline::TranslationResult& t) {
  auto& pace = telemetry_.pace.of(t.language);
  if (t.pace.wait_ms < 0) return;
  pace.spoken.fetch_add(1, std::memory_order_relaxed);
  if (t.pace.rate > 1.0) pace.sped_up.fetch_add(1, std::memory_order_relaxed);
  if (t.pace.trimmed_ms > 0) pace.trimmed.fetch_add(1, std::memory_order_relaxed);
  pace.wait.observe(static_cast<double>(t.pace.wait_ms) / 1000.0);
  pace.end_lag.observe(static_cast<double>(t.pace.end_lag_ms) / 1000.0);
}

void Worker::on_speech_skipped(const pipeline::Utterance& u, const pipeline::TranslationResult& t) {
  telemetry_.pace.of(t.language).skipped.fetch_add(1, std::memory_order_relaxed);
  auto sit = seq_of_utterance_.find(u.id);
  if (sit == seq_of_utterance_.end()) return;
  host_.publish(SpeechSkippedEvent{sit->second, t.language});
}

void Worker::record_timings(int64_t seq, std::initializer_list<Stage> stages,
                            std::vector<store::StageTiming> measured) {
  if (!store_) return;
  std::vector<store::StageTiming> timings = std::move(measured);
  for (const auto& s : stages) {
    if (s.from_us == 0 || s.to_us == 0) continue;  // a stage never reached has no time
    timings.push_back({s.language, s.stage, ms_between(s.from_us, s.to_us)});
  }
  if (auto st = store_->add_timings(config_.session_id, seq, timings); !st) core::log_error("store", st.message());
}

void Worker::on_error(const core::Status& s) {
  bump(&LiveCounters::engine_errors);
  core::log_warn("session", config_.code + ": " + s.message());
  host_.to_speaker(wire::error("engine", s.message()));
}

}  // namespace parley::session
