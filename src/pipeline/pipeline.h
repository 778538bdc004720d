// SPDX-License-Identifier: GPL-3.0-or-later
// One speaker's pipeline: VAD segmentation → streaming STT (partials, final) →
// MT per target language → TTS per target language.
//
// Threading: a SpeakerPipeline is driven by exactly one thread (push_audio,
// finish, add_target, remove_target); listener callbacks run on that thread,
// synchronously, in order, and must not block for long — the live server
// hands results to its fan-out through bounded queues. Engines are shared
// through `Engines`; per-session state (decoder, VAD, translators, voices)
// is owned here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "audio/pcm.h"
#include "core/status.h"
#include "engines/mt/glossary.h"
#include "pipeline/strong_words.h"
#include "engines/mt/router.h"
#include "engines/mt/translator.h"
#include "engines/stt/stt.h"
#include "engines/tts/tts.h"
#include "engines/vad/vad.h"
#include "pipeline/pace.h"
#include "pipeline/segmenter.h"
#include "pipeline/stability.h"
#include "pipeline/utterance.h"
#include "words/script.h"

namespace parley::pipeline {

// The loaded engines, shared by every pipeline in the process.
struct Engines {
  std::shared_ptr<const engines::vad::Model> vad;
  std::shared_ptr<const engines::stt::Model> stt;
  std::shared_ptr<const engines::mt::Router> router;
  std::shared_ptr<const engines::tts::Model> tts;  // may be null: captions only
  std::shared_ptr<engines::mt::TranslationCache> mt_cache;
};

struct PipelineConfig {
  std::string source_language = "en";
  std::vector<std::string> targets;
  SegmenterConfig segmenter;
  // Audio between partial hypotheses.
  int partial_interval_ms = 200;
  bool synthesize = true;
  // Translate partial captions too (a few ms per partial and language).
  bool translate_partials = false;
  // Show only the words the last two partial hypotheses agree on
  // (LocalAgreement-2; see stability.h). Finals are not affected.
  bool stabilize_partials = true;
  size_t agreement_n = 3;  // hypotheses that must agree (LocalAgreement-n; docs/benchmarks.md)
  std::shared_ptr<const engines::mt::Glossary> glossary;
  // Keeps each language's speech in step with the speaker (pace.h).
  PaceConfig pace;
  // The session's words for the recogniser (engines.stt->adapt), from the
  // first utterance on; null: the generic model.
  std::shared_ptr<const engines::stt::Adaptation> stt_adaptation;
  // The script being read, if any: finals that follow it are shown in its
  // words (words/script.h).
  std::optional<words::Script> script;
  // Names said the same way in every language's speech (tts.h).
  std::shared_ptr<const engines::tts::Lexicon> lexicon;
  // Strong language by language, for a session that hides it: masked in
  // captions, left out of speech. Empty (the default): everything as said.
  std::map<std::string, StrongWords> strong_words;
  // False: the speaker types (no recogniser for the language, e.g. a
  // conversation's participant); no STT stream is opened and audio is refused.
  bool recognise = true;
};

class PipelineListener {
 public:
  virtual ~PipelineListener() = default;
  // A revised guess for the open utterance; revision starts at 1.
  virtual void on_partial(uint64_t /*utterance_id*/, uint32_t /*revision*/,
                          const std::string& /*text*/) {}
  // The utterance is final. Empty text means nothing was recognised: a page
  // clears its partial.
  virtual void on_final(const Utterance& /*u*/) {}
  virtual void on_translation(const Utterance& /*u*/, const TranslationResult& /*t*/) {}
  // Translated speech as it is synthesised; `first_sample` is the chunk's
  // offset within this utterance's speech for `language`.
  virtual void on_speech_chunk(const Utterance& /*u*/, const std::string& /*language*/,
                               const engines::tts::SpeechChunk& /*chunk*/,
                               int64_t /*first_sample*/) {}
  // Asked before a translation is synthesised: false skips the speech (no
  // one of that language wants audio, e.g. every listener reads captions only).
  virtual bool wants_speech(const std::string& /*language*/) const { return true; }
  // The pace controller skipped this utterance's speech for `language` to
  // catch up with the speaker (its caption went out as usual).
  virtual void on_speech_skipped(const Utterance& /*u*/, const TranslationResult& /*t*/) {}
  // The utterance's whole speech for t.language, after its last chunk.
  virtual void on_speech_end(const Utterance& /*u*/, const TranslationResult& /*t*/,
                             const engines::tts::Speech& /*speech*/) {}
  // A partial, translated (only with PipelineConfig::translate_partials).
  virtual void on_partial_translation(uint64_t /*utterance_id*/, uint32_t /*revision*/,
                                      const std::string& /*language*/,
                                      const std::string& /*text*/) {}
  // A stage failed for one utterance or language; the pipeline carries on.
  virtual void on_error(const core::Status& /*status*/) {}
};

// What the pipeline leaves out while its session sheds load
// (session/load_shedding.h). Everything on by default.
struct Shedding {
  bool partials = true;              // partial hypotheses at all
  bool partial_translations = true;  // their translations
  std::vector<std::string> silent;   // languages whose speech is not made
};

class SpeakerPipeline final : private SegmenterListener, private HypothesisSource {
 public:
  static core::Result<std::unique_ptr<SpeakerPipeline>> create(const Engines& engines,
                                                               PipelineConfig config,
                                                               PipelineListener& listener);
  ~SpeakerPipeline() override;

  // 16 kHz mono samples, any block size.
  core::Status push_audio(std::span<const float> samples);
  // Ends the open utterance, if any, and processes it.
  void finish();
  // A typed caption: ends the open utterance, then goes out as an utterance
  // of its own (final, translations, speech) as if it had been spoken.
  void submit_text(const std::string& text);

  // Starts or stops a target language (the live server follows its listeners).
  // not_found when no translation route exists.
  core::Status add_target(const std::string& language);
  void remove_target(const std::string& language);
  std::vector<std::string> targets() const;
  size_t n_targets() const { return lanes_.size(); }
  // False for a target whose language has no voice: it gets captions only.
  bool has_voice(const std::string& language) const;

  int sample_rate_hz_out() const;  // TTS rate; 0 without TTS

  // From the next audio on.
  void set_shedding(Shedding shedding) { shedding_ = std::move(shedding); }
  // The session's words changed: the recogniser uses `adaptation` (null:
  // the generic model) from its next utterance on.
  void use_adaptation(std::shared_ptr<const engines::stt::Adaptation> adaptation);
  // A new script, followed from its start; an empty one ends script mode.
  void use_script(words::Script script);
  // Translations honour `glossary` (null: none) from the next utterance on.
  void use_glossary(std::shared_ptr<const engines::mt::Glossary> glossary);
  // Every language's speech says `lexicon`'s names their way (null: none).
  void use_lexicon(std::shared_ptr<const engines::tts::Lexicon> lexicon);
  // Script mode's follower (null without a script): the speaker's seeks and
  // pasted sections go to it.
  words::ScriptFollower* script() { return script_ ? &*script_ : nullptr; }
  // `ms` of the listeners' time passed with no audio (the speaker paused,
  // audio was lost): the translated speech queued for them played on.
  void skip_time(int64_t ms);
  // The position in the speaker's stream, in ms of audio pushed.
  int64_t position_ms() const { return audio::samples_to_ms(samples_in_, audio::kPipelineRateHz); }

 private:
  struct Lane;
  SpeakerPipeline(const Engines& engines, PipelineConfig config, PipelineListener& listener);

  void on_utterance_start(int64_t start_sample) override;
  void on_utterance_audio(std::span<const float> samples) override;
  void on_utterance_end(int64_t end_sample, EndReason reason) override;
  std::string hypothesis_now() override;
  // Every target's caption (translations run at once), then every target's speech.
  // `source` is what is translated: the utterance's text before masking.
  void translate_and_speak(const Utterance& u, const std::string& source);
  // `text` in `language` as a caption shows it, and as the voice says it
  // (strong words masked, or left out, when the session hides them);
  // `source` is the utterance's own text.
  std::string shown(const std::string& text, const std::string& language, const std::string& source) const;
  std::string spoken(const std::string& text, const std::string& language, const std::string& source) const;
  // `between_chunks` runs after each chunk (other languages' captions that became ready).
  void speak(const Utterance& u, Lane& lane, TranslationResult& r, const std::function<void()>& between_chunks);
  // A translator into `language` with the current glossary.
  core::Result<std::unique_ptr<engines::mt::Translator>> open_translator(const std::string& language) const;
  // Shows a partial hypothesis (stabilised) to the listener.
  void show_partial(const std::string& hypothesis);

  Engines engines_;
  PipelineConfig c_;
  PipelineListener& listener_;
  std::unique_ptr<Segmenter> segmenter_;
  std::unique_ptr<engines::stt::Stream> stt_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;

  Utterance current_;
  uint64_t next_id_ = 1;
  uint32_t revision_ = 0;
  std::string last_partial_;
  int64_t samples_since_partial_ = 0;
  int64_t samples_in_ = 0;  // stream position, for typed captions
  LocalAgreement agreement_;
  RetractionMeter shown_meter_, raw_meter_;
  std::vector<std::string> displayed_;
  bool stt_failed_ = false;
  Shedding shedding_;
  std::optional<words::ScriptFollower> script_;
};

}  // namespace parley::pipeline
