// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/endpointer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "pipeline/stability.h"

namespace parley::pipeline {
namespace {

constexpr int kFrameMs = 10;
constexpr int kLookAgainFrames = 5;      // 50 ms
constexpr int kMinPauseFrames = 3;       // shorter gaps are not pauses
constexpr size_t kPausesKnown = 8;
constexpr int kUsualPauseMarginMs = 60;
constexpr int kUnknownSpeakerExtraMs = 100;
constexpr size_t kShortestSentenceWords = 3;

// Words that seldom close a sentence: articles, prepositions, conjunctions,
// possessive determiners. A pause after one is a speaker thinking of the
// next word, not an end.
const std::map<std::string, std::set<std::string, std::less<>>, std::less<>>& continuation_words() {
  static const std::map<std::string, std::set<std::string, std::less<>>, std::less<>> words = {
      {"en", {"a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "for",
              "with", "from", "by", "into", "onto", "about", "than", "because", "if", "whether",
              "my", "your", "his", "her", "its", "our", "their", "whose", "very", "such", "some",
              "every", "each", "no", "between", "through", "during", "without", "under", "over"}},
      {"es", {"el", "la", "los", "las", "un", "una", "unos", "unas", "y", "e", "o", "u", "pero",
              "de", "del", "a", "al", "en", "con", "por", "para", "que", "mi", "mis", "tu", "tus",
              "su", "sus", "nuestro", "nuestra", "como", "sin", "sobre", "entre", "muy", "porque"}},
      {"fr", {"le", "la", "les", "l", "un", "une", "des", "et", "ou", "mais", "de", "du", "d", "à",
              "au", "aux", "en", "dans", "avec", "pour", "par", "sur", "que", "qu", "mon", "ma",
              "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "votre", "leur", "leurs",
              "ce", "cet", "cette", "ces", "très", "parce", "sans", "entre"}},
      {"de", {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer",
              "und", "oder", "aber", "von", "zu", "mit", "in", "im", "auf", "für", "an", "am",
              "bei", "dass", "weil", "mein", "meine", "dein", "sein", "seine", "ihr", "ihre",
              "unser", "sehr", "über", "unter", "nach", "aus"}},
      {"pt", {"o", "a", "os", "as", "um", "uma", "uns", "umas", "e", "ou", "mas", "de", "do",
              "da", "dos", "das", "em", "no", "na", "nos", "nas", "com", "por", "para", "que",
              "meu", "minha", "seu", "sua", "nosso", "nossa", "muito", "porque", "sem", "entre"}},
      {"it", {"il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una", "e", "ed", "o", "ma",
              "di", "del", "della", "dei", "delle", "a", "al", "alla", "in", "nel", "nella", "con",
              "per", "su", "che", "mio", "mia", "suo", "sua", "nostro", "molto", "perché", "senza",
              "tra", "fra"}},
  };
  return words;
}

std::string base_language(const std::string& language) {
  std::string base = language.substr(0, language.find_first_of("-_"));
  std::transform(base.begin(), base.end(), base.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return base;
}

bool ends_with_sentence_mark(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\'' ||
                           text.back() == ')')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return false;
  const char last = text.back();
  if (last == '.' || last == '?' || last == '!') return true;
  // The full-width and Arabic question marks and the ideographic full stop.
  for (std::string_view mark : {"\xE3\x80\x82", "\xEF\xBC\x9F", "\xEF\xBC\x81", "\xD8\x9F"}) {
    if (text.ends_with(mark)) return true;
  }
  return false;
}

std::string last_word(const std::string& text) {
  auto words = split_words(text);
  if (words.empty()) return {};
  std::string w = words.back();
  // "l'homme" → "l", a trailing apostrophe form ("qu'") counts as its stem.
  std::transform(w.begin(), w.end(), w.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  while (!w.empty() && (w.back() == ',' || w.back() == ';' || w.back() == ':' || w.back() == '\'')) {
    w.pop_back();
  }
  return w;
}

}  // namespace

Endpointer::Endpointer(EndpointConfig config, std::string language, HypothesisSource* source)
    : c_(config), language_(base_language(language)), source_(source) {
  c_.min_silence_ms = std::max(kFrameMs, std::min(c_.min_silence_ms, c_.max_silence_ms));
}

bool Endpointer::continues_sentence(const std::string& language, const std::string& word) {
  const auto& all = continuation_words();
  auto it = all.find(base_language(language));
  return it != all.end() && it->second.count(word) != 0;
}

void Endpointer::remember_pause(int frames) {
  pauses_[n_pauses_ % pauses_.size()] = frames;
  ++n_pauses_;
}

void Endpointer::idle_frame(bool voiced) {
  if (pause_after_end_frames_ < 0) return;
  if (voiced) {
    remember_pause(pause_after_end_frames_);
    pause_after_end_frames_ = -1;
  } else if (++pause_after_end_frames_ * kFrameMs >= c_.max_silence_ms) {
    pause_after_end_frames_ = -1;  // a real end: the hangover would have ended it too
  }
}

void Endpointer::begin_utterance() {
  pause_after_end_frames_ = -1;
  silence_frames_ = 0;
  looked_ = false;
  last_hypothesis_.clear();
  evidence_ = PauseEvidence::none;
}

int Endpointer::usual_pause_ms() const {
  if (n_pauses_ < kPausesKnown) return 0;
  std::array<int, 64> sorted = pauses_;
  const size_t n = std::min(n_pauses_, pauses_.size());
  std::sort(sorted.begin(), sorted.begin() + static_cast<long>(n));
  return sorted[(n * 19) / 20 - (n * 19 % 20 == 0 ? 1 : 0)] * kFrameMs;
}

bool Endpointer::end_after_frame(bool voiced, bool noisy) {
  noisy_ = noisy;
  if (voiced) {
    if (silence_frames_ >= kMinPauseFrames) remember_pause(silence_frames_);
    silence_frames_ = 0;
    looked_ = false;
    return false;
  }
  ++silence_frames_;
  if (silence_frames_ * kFrameMs >= c_.max_silence_ms) {
    evidence_ = PauseEvidence::none;
    return true;
  }
  if (c_.policy == EndpointPolicy::fixed) return false;
  // The first look comes 50 ms before the shortest end, so that the
  // hypothesis has been seen twice when a decision is first possible.
  const int first_look = std::max(1, c_.min_silence_ms / kFrameMs - kLookAgainFrames);
  if (silence_frames_ < (looked_ ? next_look_frames_ : first_look)) return false;
  return decide();
}

bool Endpointer::decide() {
  const int silence = silence_frames_ * kFrameMs;
  std::string hypothesis = source_ != nullptr ? source_->hypothesis_now() : std::string();
  const bool stable = looked_ && hypothesis == last_hypothesis_;
  last_hypothesis_ = std::move(hypothesis);
  looked_ = true;
  next_look_frames_ = silence_frames_ + kLookAgainFrames;
  if (silence < c_.min_silence_ms) return false;

  // Nothing recognised yet: a first short word, or a noise. Both can wait.
  if (source_ != nullptr && split_words(last_hypothesis_).empty()) {
    next_look_frames_ = c_.max_silence_ms / kFrameMs;
    return false;
  }
  if (ends_with_sentence_mark(last_hypothesis_)) {
    evidence_ = PauseEvidence::punctuation;
    return true;
  }
  if (continues_sentence(language_, last_word(last_hypothesis_))) {
    next_look_frames_ = c_.max_silence_ms / kFrameMs;  // nothing to look at before the hangover
    return false;
  }
  // The recogniser still revises its last words: the speaker may be mid-word.
  if (source_ != nullptr && !stable) return false;
  // One or two words are seldom a whole sentence ("front … centre").
  if (source_ != nullptr && split_words(last_hypothesis_).size() < kShortestSentenceWords) {
    next_look_frames_ = c_.max_silence_ms / kFrameMs;
    return false;
  }
  const int usual = usual_pause_ms();
  int needed = usual > 0 ? std::clamp(usual + kUsualPauseMarginMs, c_.min_silence_ms, c_.max_silence_ms)
                         : std::min(c_.min_silence_ms + kUnknownSpeakerExtraMs, c_.max_silence_ms);
  if (noisy_) needed = std::max(needed, (c_.min_silence_ms + c_.max_silence_ms) / 2);
  if (silence >= needed) {
    evidence_ = PauseEvidence::speaker_pause;
    pause_after_end_frames_ = silence_frames_;
    return true;
  }
  next_look_frames_ = std::min(next_look_frames_, std::max(silence_frames_ + 1, needed / kFrameMs));
  return false;
}

}  // namespace parley::pipeline
