// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <optional>

#include "audio/pcm.h"
#include "core/clock.h"
#include "core/spacing.h"
#include "pipeline/text.h"

namespace parley::pipeline {

using engines::mt::Translator;

// Per target language: the translator and the voice.
struct SpeakerPipeline::Lane {
  explicit Lane(const PaceConfig& pc) : pace(pc) {}
  std::string language;
  std::unique_ptr<Translator> translator;
  std::unique_ptr<engines::tts::Stream> voice;  // null when not synthesising
  PaceController pace;
};

core::Result<std::unique_ptr<SpeakerPipeline>> SpeakerPipeline::create(const Engines& engines,
                                                                       PipelineConfig config,
                                                                       PipelineListener& listener) {
  if (!engines.vad || (config.recognise && !engines.stt) || !engines.router) {
    return core::invalid_argument("a pipeline needs VAD, STT and MT engines");
  }
  auto targets = config.targets;
  std::unique_ptr<SpeakerPipeline> p(new SpeakerPipeline(engines, std::move(config), listener));
  auto vad = engines.vad->open_stream();
  if (!vad) return vad.status();
  SegmenterListener& as_listener = *p;  // private bases: convert here, not in make_unique
  HypothesisSource& as_source = *p;
  p->segmenter_ = std::make_unique<Segmenter>(std::move(*vad), p->c_.segmenter, as_listener,
                                              p->c_.source_language, &as_source);
  if (p->c_.recognise) {
    auto stt = engines.stt->open_stream(p->c_.source_language);
    if (!stt) return stt.status();
    p->stt_ = std::move(*stt);
    if (p->c_.stt_adaptation) p->stt_->use(p->c_.stt_adaptation);
  }
  if (p->c_.script) p->use_script(std::move(*p->c_.script));
  p->c_.script.reset();
  p->c_.targets.clear();
  for (const auto& t : targets) {
    auto st = p->add_target(t);
    if (!st) return st;
  }
  return p;
}

SpeakerPipeline::SpeakerPipeline(const Engines& engines, PipelineConfig config,
                                 PipelineListener& listener)
    : engines_(engines), c_(std::move(config)), listener_(listener) {}

SpeakerPipeline::~SpeakerPipeline() = default;

core::Result<std::unique_ptr<Translator>> SpeakerPipeline::open_translator(const std::string& language) const {
  return Translator::open(*engines_.router, c_.source_language, language, c_.glossary, engines_.mt_cache);
}

core::Status SpeakerPipeline::add_target(const std::string& language) {
  if (lanes_.count(language) != 0) return {};
  auto lane = std::make_unique<Lane>(c_.pace);
  lane->language = language;
  auto tr = open_translator(language);
  if (!tr) return tr.status();
  lane->translator = std::move(*tr);
  if (c_.synthesize && engines_.tts) {
    // A language without a voice still gets captions.
    auto voice = engines_.tts->open_stream(language);
    if (voice) {
      lane->voice = std::move(*voice);
      if (c_.lexicon) lane->voice->use_lexicon(c_.lexicon);
    } else if (voice.status().code() != core::Code::not_found) {
      return voice.status();
    }
  }
  lanes_.emplace(language, std::move(lane));
  return {};
}

bool SpeakerPipeline::has_voice(const std::string& language) const {
  auto it = lanes_.find(language);
  return it != lanes_.end() && it->second->voice != nullptr;
}

void SpeakerPipeline::remove_target(const std::string& language) { lanes_.erase(language); }

std::vector<std::string> SpeakerPipeline::targets() const {
  std::vector<std::string> out;
  for (const auto& [lang, lane] : lanes_) out.push_back(lang);
  return out;
}

int SpeakerPipeline::sample_rate_hz_out() const {
  for (const auto& [lang, lane] : lanes_) {
    if (lane->voice) return lane->voice->sample_rate_hz();
  }
  return 0;
}

core::Status SpeakerPipeline::push_audio(std::span<const float> samples) {
  if (!stt_) return core::failed_precondition("this speaker types: no recogniser for " + c_.source_language);
  samples_in_ += static_cast<int64_t>(samples.size());
  return segmenter_->push(samples);
}

void SpeakerPipeline::finish() { segmenter_->flush(); }

void SpeakerPipeline::skip_time(int64_t ms) {
  for (auto& [lang, lane] : lanes_) lane->pace.skip_time(ms);
}

void SpeakerPipeline::use_adaptation(std::shared_ptr<const engines::stt::Adaptation> adaptation) {
  if (stt_) stt_->use(std::move(adaptation));
}

void SpeakerPipeline::use_script(words::Script script) {
  if (script.tokens().empty()) {
    script_.reset();
  } else {
    script_.emplace(std::move(script));
  }
}

void SpeakerPipeline::use_glossary(std::shared_ptr<const engines::mt::Glossary> glossary) {
  if (glossary == c_.glossary) return;  // reopening translators costs the worker a round trip per lane
  c_.glossary = std::move(glossary);
  for (auto& [language, lane] : lanes_) {
    auto tr = open_translator(language);
    if (tr) {
      lane->translator = std::move(*tr);
    } else {
      listener_.on_error(tr.status());  // the lane keeps its translator
    }
  }
}

void SpeakerPipeline::use_lexicon(std::shared_ptr<const engines::tts::Lexicon> lexicon) {
  c_.lexicon = std::move(lexicon);
  for (auto& [language, lane] : lanes_) {
    if (lane->voice) lane->voice->use_lexicon(c_.lexicon);
  }
}

void SpeakerPipeline::submit_text(const std::string& text) {
  finish();
  Utterance u;
  u.id = next_id_++;
  u.start_ms = u.end_ms = audio::samples_to_ms(samples_in_, audio::kPipelineRateHz);
  u.words = text;
  const std::string typed = core::tidy_spacing(text, c_.source_language);
  u.text = shown(typed, c_.source_language, typed);
  u.end_reason = "typed";
  const int64_t now = core::now_us();
  u.times.first_audio_us = u.times.last_audio_us = u.times.vad_end_us = u.times.stt_final_us = now;
  listener_.on_final(u);
  if (u.text.empty()) return;
  translate_and_speak(u, typed);
}

void SpeakerPipeline::on_utterance_start(int64_t start_sample) {
  current_ = Utterance{};
  current_.id = next_id_++;
  current_.start_ms = audio::samples_to_ms(start_sample, audio::kPipelineRateHz);
  current_.times.first_audio_us = core::now_us();
  revision_ = 0;
  last_partial_.clear();
  agreement_ = LocalAgreement(c_.agreement_n);
  displayed_.clear();
  samples_since_partial_ = 0;
  int64_t t0 = core::now_us();
  auto st = stt_->begin_utterance();
  current_.times.stt_ms += core::elapsed_ms(t0, core::now_us());
  stt_failed_ = !st.is_ok();
  if (stt_failed_) listener_.on_error(st);
}

void SpeakerPipeline::on_utterance_audio(std::span<const float> samples) {
  current_.times.last_audio_us = core::now_us();
  if (stt_failed_) return;
  int64_t t0 = core::now_us();
  auto st = stt_->accept(samples);
  if (!st) {
    stt_failed_ = true;
    listener_.on_error(st);
    return;
  }
  samples_since_partial_ += static_cast<int64_t>(samples.size());
  if (shedding_.partials && samples_since_partial_ >=
      audio::ms_to_samples(c_.partial_interval_ms, audio::kPipelineRateHz)) {
    samples_since_partial_ = 0;
    auto hyp = stt_->partial();
    if (hyp && !hyp->text.empty() && hyp->text != last_partial_) {
      last_partial_ = hyp->text;
      current_.times.stt_ms += core::elapsed_ms(t0, core::now_us());
      show_partial(hyp->text);
      return;
    }
  }
  current_.times.stt_ms += core::elapsed_ms(t0, core::now_us());
}

void SpeakerPipeline::show_partial(const std::string& hypothesis) {
  const auto raw = split_words(hypothesis);
  raw_meter_.show(raw);
  const auto& display = c_.stabilize_partials ? agreement_.update(raw) : raw;
  if (display.empty() || display == displayed_) return;
  displayed_ = display;
  shown_meter_.show(display);
  std::string joined;
  for (const auto& w : display) joined += (joined.empty() ? "" : " ") + w;
  const std::string sentence = to_sentence(joined, c_.source_language);
  listener_.on_partial(current_.id, ++revision_, shown(sentence, c_.source_language, sentence));
  if (!c_.translate_partials || !shedding_.partial_translations) return;
  for (auto& [lang, lane] : lanes_) {
    auto t = lane->translator->translate(sentence);
    if (t) listener_.on_partial_translation(current_.id, revision_, lang, shown(t->text, lang, sentence));
  }
}

std::string SpeakerPipeline::hypothesis_now() {
  if (stt_failed_) return {};
  const int64_t t0 = core::now_us();
  auto hyp = stt_->partial();
  current_.times.stt_ms += core::elapsed_ms(t0, core::now_us());
  return hyp ? hyp->text : std::string();
}

namespace {
const char* reason_name(EndReason reason) {
  switch (reason) {
    case EndReason::pause: return "pause";
    case EndReason::silence: return "hangover";
    case EndReason::max_length: return "max_length";
    case EndReason::end_of_stream: return "end";
  }
  return "end";
}
}  // namespace

void SpeakerPipeline::on_utterance_end(int64_t end_sample, EndReason reason) {
  current_.times.vad_end_us = core::now_us();
  current_.end_reason = reason_name(reason);
  current_.end_ms = audio::samples_to_ms(end_sample, audio::kPipelineRateHz);
  if (!stt_failed_) {
    int64_t t0 = core::now_us();
    auto hyp = stt_->end_utterance();
    current_.times.stt_final_us = core::now_us();
    current_.times.stt_ms += core::elapsed_ms(t0, current_.times.stt_final_us);
    if (hyp) {
      current_.words = hyp->text;
      current_.text = to_sentence(hyp->text, c_.source_language);
      if (script_ && !current_.text.empty()) {
        auto shown = script_->follow(hyp->text, current_.text);
        current_.text = shown.text();
        current_.from_script = shown.any_from_script();
        current_.script_sentence = static_cast<int64_t>(script_->position_sentence());
      }
      // Engines may place a word's edge a frame or two past the audio they
      // were given; a word never lies outside its utterance.
      for (auto w : hyp->words) {
        w.start_ms = std::clamp(w.start_ms + current_.start_ms, current_.start_ms, current_.end_ms);
        w.end_ms = std::clamp(w.end_ms + current_.start_ms, w.start_ms, current_.end_ms);
        current_.word_times.push_back(std::move(w));
      }
    } else {
      listener_.on_error(hyp.status());
    }
  }
  const auto final_words = split_words(current_.words);
  current_.partials_shown = shown_meter_.finish(final_words);
  current_.partials_raw = raw_meter_.finish(final_words);
  const std::string said = current_.text;
  current_.text = shown(said, c_.source_language, said);
  listener_.on_final(current_);
  if (current_.text.empty()) return;
  translate_and_speak(current_, said);
}

std::string SpeakerPipeline::shown(const std::string& text, const std::string& language,
                                   const std::string& source) const {
  if (c_.strong_words.empty()) return text;
  std::string out = text;
  if (auto it = c_.strong_words.find(language); it != c_.strong_words.end()) out = it->second.mask(out);
  // Engines pass words they do not know through untranslated: the source
  // language's strong words that the source has are hidden in translations too.
  if (language != c_.source_language) {
    if (auto src = c_.strong_words.find(c_.source_language); src != c_.strong_words.end()) {
      out = src->second.mask_carried(out, source);
    }
  }
  return out;
}

std::string SpeakerPipeline::spoken(const std::string& text, const std::string& language,
                                    const std::string& source) const {
  if (c_.strong_words.empty()) return text;
  std::string out = text;
  if (auto it = c_.strong_words.find(language); it != c_.strong_words.end()) out = it->second.drop(out);
  if (auto src = c_.strong_words.find(c_.source_language); src != c_.strong_words.end()) {
    out = src->second.drop_carried(out, source);
  }
  return out;
}

void SpeakerPipeline::translate_and_speak(const Utterance& u, const std::string& source) {
  // Every language's translation runs at once (each lane's translator on
  // one thread), so a slow engine for one language (a remote server waiting
  // out its deadline) delays no other language. Here, in turn: every
  // caption that is ready goes out, then one ready language is spoken, and
  // again, until all are done.
  struct Pending {
    Lane* lane;
    std::future<core::Result<engines::mt::Translation>> translation;
  };
  std::vector<Pending> pending;
  for (auto& [lang, lane] : lanes_) {
    auto* tr = lane->translator.get();
    const auto how = lanes_.size() == 1 ? std::launch::deferred : std::launch::async;
    pending.push_back({lane.get(), std::async(how, [tr, &source] { return tr->translate(source); })});
  }
  std::deque<std::pair<Lane*, TranslationResult>> to_speak;
  // Sends every caption whose translation is ready; also called while a
  // language is being spoken, so no caption waits for another's speech.
  auto deliver_ready = [&] {
    for (auto it = pending.begin(); it != pending.end();) {
      const bool deferred = it->translation.wait_for(std::chrono::seconds(0)) == std::future_status::deferred;
      if (!deferred && it->translation.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ++it;
        continue;
      }
      Lane& lane = *it->lane;
      auto tr = it->translation.get();
      it = pending.erase(it);
      TranslationResult r;
      r.language = lane.language;
      r.route = lane.translator->route().describe();
      r.times.mt_done_us = core::now_us();
      if (!tr) {
        listener_.on_error(core::Status(tr.status().code(), lane.language + ": " + tr.status().message()));
        continue;
      }
      r.text = shown(tr->text, lane.language, source);
      r.spoken = spoken(tr->text, lane.language, source);
      r.cache_hit = tr->cache_hit;
      r.n_glossary_terms = tr->n_glossary_terms;
      r.times.mt_ms = tr->mt_ms;
      listener_.on_translation(u, r);
      to_speak.emplace_back(&lane, std::move(r));
    }
  };
  while (!pending.empty() || !to_speak.empty()) {
    deliver_ready();
    if (!to_speak.empty()) {
      auto [lane, r] = std::move(to_speak.front());
      to_speak.pop_front();
      speak(u, *lane, r, deliver_ready);
    } else if (!pending.empty()) {
      pending.front().translation.wait_for(std::chrono::milliseconds(2));
    }
  }
}

void SpeakerPipeline::speak(const Utterance& u, Lane& lane, TranslationResult& r,
                            const std::function<void()>& between_chunks) {
  if (!lane.voice || r.text.empty() || !listener_.wants_speech(lane.language)) return;
  if (std::find(shedding_.silent.begin(), shedding_.silent.end(), lane.language) != shedding_.silent.end()) return;

  int64_t t0 = core::now_us();
  // The pace controller's clock is the stream's: the utterance was closed at
  // end_ms, and the work since then has taken wall time.
  const auto stream_now_ms = [&u](int64_t at_us) {
    return u.end_ms + (u.times.vad_end_us > 0 ? (at_us - u.times.vad_end_us) / 1000 : 0);
  };
  const int64_t source_end = source_end_ms(u);
  // Nothing left to say (an utterance of strong words only, hidden): no
  // voice reads out punctuation.
  if (!StrongWords::has_letters(r.spoken)) {
    listener_.on_speech_skipped(u, r);
    return;
  }
  const SpeechPlan plan = lane.pace.plan(stream_now_ms(t0), source_end);
  r.pace.rate = plan.rate;
  if (!plan.speak) {
    listener_.on_speech_skipped(u, r);
    return;
  }
  lane.voice->set_rate(plan.rate);
  const int rate_hz = lane.voice->sample_rate_hz();
  std::optional<EdgeTrimmer> trim;
  if (plan.edge_ms >= 0) trim.emplace(audio::ms_to_samples(plan.edge_ms, rate_hz));
  engines::tts::Speech speech;
  speech.audio.sample_rate_hz = rate_hz;
  std::vector<float> out;
  std::vector<engines::tts::PhonemeEvent> phonemes;
  std::vector<engines::tts::WordEvent> words;
  // Sends `audio` (and the events of the engine's chunk) on to listeners.
  const auto send = [&](std::span<const float> audio, std::span<const engines::tts::PhonemeEvent> ph,
                        std::span<const engines::tts::WordEvent> wd) {
    if (audio.empty() && ph.empty() && wd.empty()) return;
    if (r.times.tts_first_audio_us == 0 && !audio.empty()) r.times.tts_first_audio_us = core::now_us();
    listener_.on_speech_chunk(u, lane.language, {audio, ph, wd}, static_cast<int64_t>(speech.audio.samples.size()));
    auto& a = speech.audio.samples;
    a.insert(a.end(), audio.begin(), audio.end());
    speech.phonemes.insert(speech.phonemes.end(), ph.begin(), ph.end());
    speech.words.insert(speech.words.end(), wd.begin(), wd.end());
  };
  auto st = lane.voice->synthesize(r.spoken, [&](const engines::tts::SpeechChunk& chunk) {
    if (!trim) {
      send(chunk.audio, chunk.phonemes, chunk.words);
    } else {
      out.clear();
      trim->push(chunk.audio, out);
      phonemes.assign(chunk.phonemes.begin(), chunk.phonemes.end());
      words.assign(chunk.words.begin(), chunk.words.end());
      for (auto& p : phonemes) p.sample = trim->map(p.sample);
      for (auto& w : words) w.sample = trim->map(w.sample);
      send(out, phonemes, words);
    }
    between_chunks();
  });
  if (trim) {
    out.clear();
    trim->finish(out);
    send(out, {}, {});
    r.pace.trimmed_ms = audio::samples_to_ms(trim->n_trimmed(), rate_hz);
  }
  r.times.tts_done_us = core::now_us();
  r.times.tts_ms = core::elapsed_ms(t0, r.times.tts_done_us);
  if (!st) {
    listener_.on_error(core::Status(st.code(), lane.language + ": " + st.message()));
    return;
  }
  // Listeners get an utterance's speech whole, once synthesised and encoded.
  const int64_t ready_ms = stream_now_ms(r.times.tts_done_us);
  const auto lag = lane.pace.scheduled(ready_ms, source_end,
                                       audio::samples_to_ms(static_cast<int64_t>(speech.audio.samples.size()), rate_hz));
  r.pace.wait_ms = lag.wait_ms;
  r.pace.end_lag_ms = lag.end_ms;
  listener_.on_speech_end(u, r, speech);
}

}  // namespace parley::pipeline
