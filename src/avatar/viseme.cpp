// SPDX-License-Identifier: GPL-3.0-or-later
#include "avatar/viseme.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

namespace parley::avatar {

namespace {

using V = Viseme;

// Single IPA letters (pulmonic and implosive consonants, vowels) → shape.
const std::unordered_map<char32_t, Viseme>& letters() {
  static const std::unordered_map<char32_t, Viseme> table = {
      // lips together
      {U'p', V::PP}, {U'b', V::PP}, {U'm', V::PP}, {U'ɓ', V::PP}, {U'ʙ', V::PP}, {U'β', V::PP}, {U'ɸ', V::PP},
      {U'Φ', V::PP},  // espeak-ng writes ɸ so in some languages (Oromo)
      // lip to teeth
      {U'f', V::FF}, {U'v', V::FF}, {U'ɱ', V::FF}, {U'ʋ', V::FF},
      // tongue between teeth
      {U'θ', V::TH}, {U'ð', V::TH},
      // alveolar and retroflex stops
      {U't', V::DD}, {U'd', V::DD}, {U'ʈ', V::DD}, {U'ɖ', V::DD}, {U'ɗ', V::DD},
      // velar, uvular, palatal stops, back fricatives, glottals
      {U'k', V::kk}, {U'g', V::kk}, {U'ɡ', V::kk}, {U'q', V::kk}, {U'ɢ', V::kk}, {U'ŋ', V::kk},
      {U'ɴ', V::kk}, {U'x', V::kk}, {U'ɣ', V::kk}, {U'χ', V::kk}, {U'ħ', V::kk}, {U'ʕ', V::kk},
      {U'h', V::kk}, {U'ɦ', V::kk}, {U'ʔ', V::kk}, {U'c', V::kk}, {U'ɟ', V::kk}, {U'ɰ', V::kk},
      {U'ʄ', V::kk}, {U'ɠ', V::kk},
      // post-alveolar and alveolo-palatal fricatives
      {U'ʃ', V::CH}, {U'ʒ', V::CH}, {U'ɕ', V::CH}, {U'ʑ', V::CH}, {U'ʂ', V::CH}, {U'ʐ', V::CH},
      {U'ç', V::CH}, {U'ʝ', V::CH}, {U'ɧ', V::CH},
      // sibilants
      {U's', V::SS}, {U'z', V::SS},
      // affricates written as one ligature letter
      {U'ʦ', V::SS}, {U'ʣ', V::SS}, {U'ʧ', V::CH}, {U'ʤ', V::CH}, {U'ʨ', V::CH}, {U'ʥ', V::CH},
      // nasals and laterals with the tongue up
      {U'n', V::nn}, {U'ɲ', V::nn}, {U'ɳ', V::nn}, {U'l', V::nn}, {U'ɫ', V::nn}, {U'ʎ', V::nn},
      {U'ɭ', V::nn}, {U'ɬ', V::nn}, {U'ɮ', V::nn}, {U'ʟ', V::nn},
      // rhotics
      {U'r', V::RR}, {U'ɾ', V::RR}, {U'ɹ', V::RR}, {U'ɻ', V::RR}, {U'ʀ', V::RR}, {U'ʁ', V::RR},
      {U'ɽ', V::RR}, {U'ɺ', V::RR}, {U'ɚ', V::RR}, {U'ɝ', V::RR},
      // open vowels
      {U'a', V::aa}, {U'ɑ', V::aa}, {U'æ', V::aa}, {U'ɐ', V::aa}, {U'ʌ', V::aa}, {U'ä', V::aa},
      // mid vowels, spread or central
      {U'e', V::E}, {U'ɛ', V::E}, {U'ə', V::E}, {U'ɜ', V::E}, {U'ɘ', V::E}, {U'ɤ', V::E},
      // close front vowels and the glide j
      {U'i', V::I}, {U'ɪ', V::I}, {U'ɨ', V::I}, {U'ɯ', V::I}, {U'j', V::I},
      // rounded mid and open vowels
      {U'o', V::O}, {U'ɔ', V::O}, {U'ɒ', V::O}, {U'ɵ', V::O}, {U'ø', V::O}, {U'œ', V::O},
      {U'ɶ', V::O}, {U'ɞ', V::O},
      // rounded close vowels and glides
      {U'u', V::U}, {U'ʊ', V::U}, {U'ʉ', V::U}, {U'y', V::U}, {U'ʏ', V::U}, {U'w', V::U},
      {U'ɥ', V::U}, {U'ʍ', V::U},
  };
  return table;
}

// Two-letter affricates that make one shape (the release decides it).
struct Pair {
  char32_t first, second;
  Viseme viseme;
};
constexpr std::array<Pair, 8> kAffricates = {{
    {U't', U'ʃ', V::CH}, {U'd', U'ʒ', V::CH}, {U't', U'ɕ', V::CH}, {U'd', U'ʑ', V::CH},
    {U't', U's', V::SS}, {U'd', U'z', V::SS}, {U'p', U'f', V::FF}, {U'ʈ', U'ʂ', V::CH},
}};

// Marks with no shape of their own: stress, length, tone, syllable and
// word boundaries, modifier letters (ʰ ʲ ʷ), combining diacritics (nasal,
// syllabic, tie bars) and espeak's ASCII annotations.
bool is_mark(char32_t c) {
  if (c < 0x80) return !(c >= 'a' && c <= 'z');
  if (c >= 0x02B0 && c <= 0x02FF) return true;  // spacing modifier letters
  if (c >= 0x0300 && c <= 0x036F) return true;  // combining diacritics
  if (c >= 0x1DC0 && c <= 0x1DFF) return true;  // more combining marks
  if (c == 0x2191 || c == 0x2193 || c == 0x2197 || c == 0x2198) return true;  // tone arrows
  return false;
}

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) + 1 > s.size()) {
      ++i;  // a stray or truncated sequence: skip a byte
      continue;
    }
    char32_t c = extra == 0 ? b : static_cast<char32_t>(b & (0x3F >> extra));
    for (int k = 1; k <= extra; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    out += c;
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

}  // namespace

std::string_view viseme_name(Viseme v) {
  static constexpr std::array<std::string_view, kVisemeCount> kNames = {
      "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U"};
  const auto i = static_cast<size_t>(v);
  return i < kNames.size() ? kNames[i] : "sil";
}

std::vector<Viseme> visemes_of(std::string_view ipa, int* unknown) {
  std::u32string letters_only;
  for (char32_t c : decode_utf8(ipa)) {
    if (!is_mark(c)) letters_only += c;
  }
  std::vector<Viseme> out;
  const auto& table = letters();
  for (size_t i = 0; i < letters_only.size(); ++i) {
    const char32_t c = letters_only[i];
    if (i + 1 < letters_only.size()) {
      const char32_t next = letters_only[i + 1];
      auto pair = std::find_if(kAffricates.begin(), kAffricates.end(),
                               [&](const Pair& p) { return p.first == c && p.second == next; });
      if (pair != kAffricates.end()) {
        out.push_back(pair->viseme);
        ++i;
        continue;
      }
    }
    auto it = table.find(c);
    if (it == table.end()) {
      if (unknown != nullptr) ++*unknown;
      out.push_back(V::nn);
      continue;
    }
    // A long or doubled letter ("ll" in Italian) is one held shape.
    if (out.empty() || out.back() != it->second) out.push_back(it->second);
  }
  return out;
}

Viseme Timeline::at(int64_t sample) const {
  auto it = std::upper_bound(entries.begin(), entries.end(), sample,
                             [](int64_t s, const TimelineEntry& e) { return s < e.sample; });
  return it == entries.begin() ? V::sil : std::prev(it)->viseme;
}

Timeline build_timeline(std::span<const engines::tts::PhonemeEvent> phonemes, std::span<const float> audio,
                        int sample_rate_hz, TimelineOptions options) {
  Timeline t;
  t.sample_rate_hz = sample_rate_hz;
  const auto n_samples = static_cast<int64_t>(audio.size());
  if (sample_rate_hz <= 0 || n_samples == 0) {
    t.entries.push_back({V::sil, 0});
    return t;
  }
  const int64_t hop = std::max<int64_t>(1, sample_rate_hz * options.frame_ms / 1000);
  const auto n_frames = static_cast<size_t>((n_samples + hop - 1) / hop);

  // 1. Where the audio is silent long enough, the mouth rests.
  const auto min_silent_frames = static_cast<size_t>(std::max(1, options.min_silence_ms / options.frame_ms));
  std::vector<bool> resting(n_frames, false);
  size_t run_start = 0, run = 0;
  auto close_run = [&](size_t end) {
    if (run >= min_silent_frames) std::fill(resting.begin() + static_cast<ptrdiff_t>(run_start),
                                            resting.begin() + static_cast<ptrdiff_t>(end), true);
    run = 0;
  };
  for (size_t f = 0; f < n_frames; ++f) {
    const auto from = static_cast<size_t>(static_cast<int64_t>(f) * hop);
    const auto to = std::min(audio.size(), from + static_cast<size_t>(hop));
    double energy = 0;
    for (size_t s = from; s < to; ++s) energy += static_cast<double>(audio[s]) * audio[s];
    const double rms = std::sqrt(energy / static_cast<double>(std::max<size_t>(1, to - from)));
    if (rms < options.silence_rms) {
      if (run++ == 0) run_start = f;
    } else {
      close_run(f);
    }
  }
  close_run(n_frames);

  // 2. What the phonemes say, frame by frame. A phoneme lasts until the next
  // one, or until a pause begins (so a diphthong before a comma splits its
  // sounding part, not the pause).
  std::vector<Viseme> frames(n_frames, V::sil);
  for (size_t i = 0; i < phonemes.size(); ++i) {
    const int64_t start = std::clamp<int64_t>(phonemes[i].sample, 0, n_samples);
    int64_t end = n_samples;
    for (size_t j = i + 1; j < phonemes.size(); ++j) {
      if (phonemes[j].sample > start) {
        end = std::min(n_samples, phonemes[j].sample);
        break;
      }
    }
    for (int64_t f = start / hop + 1; f * hop < end; ++f) {
      if (resting[static_cast<size_t>(f)] && !resting[static_cast<size_t>(start / hop)]) {
        end = f * hop;
        break;
      }
    }
    if (end <= start) continue;  // superseded by a later event at the same sample
    const auto shapes = visemes_of(phonemes[i].symbol);
    if (shapes.empty()) continue;
    const int64_t share = (end - start) / static_cast<int64_t>(shapes.size());
    for (size_t k = 0; k < shapes.size(); ++k) {
      const int64_t from = start + share * static_cast<int64_t>(k);
      const int64_t to = k + 1 == shapes.size() ? end : from + share;
      for (int64_t f = from / hop; f < (to + hop - 1) / hop && f < static_cast<int64_t>(n_frames); ++f) {
        frames[static_cast<size_t>(f)] = shapes[k];
      }
    }
  }
  for (size_t f = 0; f < n_frames; ++f) {
    if (resting[f]) frames[f] = V::sil;
  }

  // 3. Run-length encode; end at rest.
  t.entries.push_back({frames[0], 0});
  for (size_t f = 1; f < n_frames; ++f) {
    if (frames[f] != t.entries.back().viseme) t.entries.push_back({frames[f], static_cast<int64_t>(f) * hop});
  }
  if (t.entries.back().viseme != V::sil) t.entries.push_back({V::sil, n_samples});
  return t;
}

}  // namespace parley::avatar
