// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/espeak/espeak_tts.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cctype>
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
  // With names in their own voices (SSML): the character of the original
  // text each character of the synthesized text stands for (-1: markup).
  const std::vector<int64_t>* source_char = nullptr;
};

// The text as SSML with the lexicon's names in their own languages'
// voices, and the map from its characters back to the text's.
struct Marked {
  std::string ssml;
  std::vector<int64_t> source_char;
  bool any = false;
};

// Bytes of the UTF-8 character that starts with `lead`.
size_t char_bytes(char lead) {
  const auto c = static_cast<unsigned char>(lead);
  return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

bool is_word_char(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  return std::isalnum(c) != 0 || c >= 0x80 || c == '\'' || c == '-';
}

Marked mark_names(const std::string& text, const std::map<std::string, std::string>& voice_of_name) {
  Marked m;
  m.ssml = "<speak>";
  m.source_char.assign(7, -1);
  auto markup = [&](std::string_view tag) {
    m.ssml += tag;
    m.source_char.insert(m.source_char.end(), tag.size(), -1);
  };
  int64_t ci = 0;  // characters of `text` so far
  auto put = [&](size_t i, size_t n) {
    const char c = text[i];
    if (c == '<' || c == '&' || c == '>') {
      const std::string_view esc = c == '<' ? "&lt;" : c == '&' ? "&amp;" : "&gt;";
      m.ssml += esc;
      m.source_char.insert(m.source_char.end(), esc.size(), ci);
    } else {
      m.ssml.append(text, i, n);
      m.source_char.push_back(ci);
    }
    ++ci;
  };
  size_t i = 0;
  while (i < text.size()) {
    if (is_word_char(text, i) && (i == 0 || !is_word_char(text, i - 1))) {
      size_t j = i;
      while (j < text.size() && is_word_char(text, j)) ++j;
      std::string word = text.substr(i, j - i);
      while (!word.empty() && (word.back() == '\'' || word.back() == '-')) word.pop_back();
      if (auto it = voice_of_name.find(word); it != voice_of_name.end()) {
        markup("<voice xml:lang=\"" + it->second + "\">");
        for (size_t k = i; k < i + word.size();) {
          const size_t n = char_bytes(text[k]);
          put(k, std::min(n, text.size() - k));
          k += n;
        }
        markup("</voice>");
        m.any = true;
        i += word.size();
        continue;
      }
    }
    const size_t n = char_bytes(text[i]);
    put(i, std::min(n, text.size() - i));
    i += n;
  }
  markup("</speak>");
  return m;
}

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
      int64_t at = e->text_position - 1;
      if (ctx->source_char != nullptr) {
        // Back to the caller's text; a word inside the markup is none of its.
        if (at < 0 || at >= static_cast<int64_t>(ctx->source_char->size())) continue;
        at = (*ctx->source_char)[static_cast<size_t>(at)];
        if (at < 0) continue;
      }
      ctx->words.push_back({at, e->length, sample});
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
  EspeakStream(std::string voice, EspeakConfig c, std::shared_ptr<const std::map<std::string, std::string>> voices)
      : voice_(std::move(voice)), c_(c), voices_(std::move(voices)) {}

  void use_lexicon(std::shared_ptr<const Lexicon> lexicon) override {
    voice_of_name_.clear();
    if (lexicon == nullptr) return;
    for (const auto& e : lexicon->entries) {
      auto v = voices_->find(e.language);
      // A name of this voice's own language is said its way already.
      if (v == voices_->end() || v->second == voice_) continue;
      voice_of_name_.emplace(e.text, v->second);
    }
  }

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
    Marked marked;
    if (!voice_of_name_.empty()) marked = mark_names(clean, voice_of_name_);
    if (marked.any) ctx.source_char = &marked.source_char;
    const std::string& said = marked.any ? marked.ssml : clean;
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
    espeak_ERROR err = espeak_Synth(said.c_str(), said.size() + 1, 0, POS_CHARACTER, 0,
                                    espeakCHARS_UTF8 | (marked.any ? espeakSSML : 0), nullptr, &ctx);
    if (err != EE_OK) return core::internal_error("espeak-ng synthesis failed");
    if (espeak_Synchronize() != EE_OK) return core::internal_error("espeak-ng did not finish");
    return {};
  }

 private:
  std::string voice_;
  EspeakConfig c_;
  double rate_ = 1.0;
  std::shared_ptr<const std::map<std::string, std::string>> voices_;  // language → espeak voice
  std::map<std::string, std::string> voice_of_name_;                  // the lexicon's names → their voices
};

class EspeakModel final : public Model {
 public:
  EspeakModel(EspeakConfig c, std::map<std::string, std::string> voices)
      : c_(c), voices_(std::make_shared<const std::map<std::string, std::string>>(std::move(voices))) {}

  std::string name() const override { return "espeak-ng"; }

  std::vector<Voice> voices() const override {
    std::vector<Voice> out;
    for (const auto& [lang, name] : *voices_) out.push_back({lang, name});
    return out;
  }

  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override {
    auto it = voices_->find(language);
    if (it == voices_->end()) {
      // "pt-BR" falls back to "pt" when only the primary language has a voice.
      it = voices_->find(language.substr(0, language.find('-')));
    }
    if (it == voices_->end()) return core::not_found("espeak-ng has no voice for '" + language + "'");
    return std::unique_ptr<Stream>(std::make_unique<EspeakStream>(it->second, c_, voices_));
  }

 private:
  EspeakConfig c_;
  std::shared_ptr<const std::map<std::string, std::string>> voices_;  // language → espeak voice name
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
