// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/espeak/espeak_tts.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engines/language.h"
#include "engines/tts/espeak/espeak_runtime.h"

namespace parley::engines::tts {
namespace {

int g_sample_rate_hz = 0;  // set under espeak_mutex(), once

// State of the synthesis in progress; reached from espeak's callback through
// the user_data pointer.
struct SynthContext {
  const std::function<void(const SpeechChunk&)>* on_chunk = nullptr;
  std::vector<float> audio;
  std::vector<PhonemeEvent> phonemes;
  std::vector<WordEvent> words;
  int64_t n_samples_emitted = 0;
  int sample_rate_hz = 0;
};

int synth_callback(short* wav, int n_samples, espeak_EVENT* events) {
  auto* ctx = static_cast<SynthContext*>(events != nullptr ? events->user_data : nullptr);
  if (ctx == nullptr) return 0;
  ctx->audio.clear();
  ctx->phonemes.clear();
  ctx->words.clear();
  for (espeak_EVENT* e = events; e->type != espeakEVENT_LIST_TERMINATED; ++e) {
    // audio_position is in ms from the start of this synthesis.
    int64_t sample = static_cast<int64_t>(e->audio_position) * ctx->sample_rate_hz / 1000;
    if (e->type == espeakEVENT_PHONEME) {
      std::string sym(e->id.string, strnlen(e->id.string, sizeof(e->id.string)));
      if (!sym.empty()) ctx->phonemes.push_back({sym, sample});
    } else if (e->type == espeakEVENT_WORD) {
      ctx->words.push_back({e->text_position - 1, e->length, sample});
    }
  }
  if (wav != nullptr && n_samples > 0) {
    ctx->audio.resize(static_cast<size_t>(n_samples));
    for (int i = 0; i < n_samples; ++i) ctx->audio[static_cast<size_t>(i)] = wav[i] / 32768.0F;
  }
  if (!ctx->audio.empty() || !ctx->phonemes.empty() || !ctx->words.empty()) {
    (*ctx->on_chunk)(SpeechChunk{ctx->audio, ctx->phonemes, ctx->words});
    ctx->n_samples_emitted += static_cast<int64_t>(ctx->audio.size());
  }
  return 0;  // continue
}

class EspeakStream final : public Stream {
 public:
  EspeakStream(std::string voice, EspeakConfig c) : voice_(std::move(voice)), c_(c) {}

  int sample_rate_hz() const override { return g_sample_rate_hz; }

  bool set_rate(double factor) override {
    rate_ = std::clamp(factor, 0.5, 2.0);  // espeak-ng speaks 80-450 words a minute
    return true;
  }

  core::Status synthesize(std::string_view text,
                          const std::function<void(const SpeechChunk&)>& on_chunk) override {
    // espeak reads a NUL-terminated string; drop embedded NULs and controls.
    std::string clean;
    clean.reserve(text.size());
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      clean += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    if (clean.find_first_not_of(' ') == std::string::npos) return {};
    SynthContext ctx;
    ctx.on_chunk = &on_chunk;
    ctx.sample_rate_hz = g_sample_rate_hz;
    std::lock_guard lock(espeak_mutex());
    // By language, not by name: voice names ("English (Great Britain)") are
    // not the language codes espeak lists ("en-gb").
    espeak_VOICE wanted{};
    wanted.languages = voice_.c_str();
    if (espeak_SetVoiceByProperties(&wanted) != EE_OK) {
      return core::unavailable("espeak-ng could not select voice '" + voice_ + "'");
    }
    espeak_SetParameter(espeakRATE, static_cast<int>(c_.rate_wpm * rate_ + 0.5), 0);
    espeak_SetParameter(espeakPITCH, c_.pitch, 0);
    espeak_ERROR err = espeak_Synth(clean.c_str(), clean.size() + 1, 0, POS_CHARACTER, 0,
                                    espeakCHARS_UTF8, nullptr, &ctx);
    if (err != EE_OK) return core::internal_error("espeak-ng synthesis failed");
    if (espeak_Synchronize() != EE_OK) return core::internal_error("espeak-ng did not finish");
    return {};
  }

 private:
  std::string voice_;
  EspeakConfig c_;
  double rate_ = 1.0;
};

class EspeakModel final : public Model {
 public:
  EspeakModel(EspeakConfig c, std::map<std::string, std::string> voices)
      : c_(c), voices_(std::move(voices)) {}

  std::string name() const override { return "espeak-ng"; }

  std::vector<Voice> voices() const override {
    std::vector<Voice> out;
    for (const auto& [lang, name] : voices_) out.push_back({lang, name});
    return out;
  }

  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override {
    auto it = voices_.find(language);
    if (it == voices_.end()) {
      // "pt-BR" falls back to "pt" when only the primary language has a voice.
      it = voices_.find(language.substr(0, language.find('-')));
    }
    if (it == voices_.end()) return core::not_found("espeak-ng has no voice for '" + language + "'");
    return std::unique_ptr<Stream>(std::make_unique<EspeakStream>(it->second, c_));
  }

 private:
  EspeakConfig c_;
  std::map<std::string, std::string> voices_;  // language → espeak voice name
};

}  // namespace

core::Result<std::shared_ptr<const Model>> make_espeak_tts(EspeakConfig config) {
  std::lock_guard lock(espeak_mutex());
  if (g_sample_rate_hz == 0) {
    auto rate = espeak_start_locked();
    if (!rate) return rate.status();
    espeak_SetSynthCallback(synth_callback);
    g_sample_rate_hz = *rate;
  }
  // Each voice file names one or more languages, each behind a priority byte.
  // The voice whose *first* language is the code wins (e.g. "es" over "es-419").
  std::map<std::string, std::string> voices;
  const espeak_VOICE** list = espeak_ListVoices(nullptr);
  for (const espeak_VOICE** v = list; v != nullptr && *v != nullptr; ++v) {
    const char* langs = (*v)->languages;
    if (langs == nullptr || (*v)->identifier == nullptr) continue;
    for (const char* p = langs; *p != 0;) {
      ++p;  // priority byte
      std::string code(p);
      p += code.size() + 1;
      auto norm = normalize_language(code);
      if (!norm) continue;
      voices.emplace(*norm, code);  // first voice per language wins
    }
  }
  if (voices.empty()) return core::unavailable("espeak-ng lists no voices; apt-get install espeak-ng-data");
  return std::shared_ptr<const Model>(std::make_shared<EspeakModel>(config, std::move(voices)));
}

}  // namespace parley::engines::tts
