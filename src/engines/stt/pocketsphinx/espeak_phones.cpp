// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/pocketsphinx/espeak_phones.h"

#include <espeak-ng/speak_lib.h>

#include <array>
#include <utility>

#include "engines/tts/espeak/espeak_runtime.h"

namespace parley::engines::stt {
namespace {

// IPA (as espeak-ng's en-us voice writes it) → CMU phones. Matched longest
// first within each phoneme; stress marks are dropped before.
struct Mapping {
  std::string_view ipa;
  std::string_view cmu;
};
constexpr std::array kMap = {
    // Vowels with r-colouring and diphthongs, before their parts.
    Mapping{"aɪɚ", "AY ER"}, Mapping{"aʊɚ", "AW ER"}, Mapping{"ɑːɹ", "AA R"}, Mapping{"ɔːɹ", "AO R"},
    Mapping{"oːɹ", "AO R"},  Mapping{"ɛɹ", "EH R"},   Mapping{"ɪɹ", "IH R"},   Mapping{"ʊɹ", "UH R"},
    Mapping{"aɪ", "AY"},     Mapping{"aʊ", "AW"},     Mapping{"eɪ", "EY"},     Mapping{"oʊ", "OW"},
    Mapping{"ɔɪ", "OY"},     Mapping{"iə", "IY AH"},  Mapping{"əl", "AH L"},   Mapping{"tʃ", "CH"},
    Mapping{"dʒ", "JH"},     Mapping{"ɜː", "ER"},     Mapping{"ɑː", "AA"},     Mapping{"ɔː", "AO"},
    Mapping{"iː", "IY"},     Mapping{"uː", "UW"},     Mapping{"oː", "OW"},     Mapping{"aː", "AA"},
    // Syllabic consonants (a combining mark after the letter).
    Mapping{"n\xCC\xA9", "AH N"}, Mapping{"l\xCC\xA9", "AH L"}, Mapping{"m\xCC\xA9", "AH M"},
    Mapping{"ɚ", "ER"},      Mapping{"ɜ", "ER"},      Mapping{"ə", "AH"},      Mapping{"ɐ", "AH"},
    Mapping{"ʌ", "AH"},      Mapping{"ᵻ", "IH"},      Mapping{"ɪ", "IH"},      Mapping{"i", "IY"},
    Mapping{"æ", "AE"},      Mapping{"ɑ", "AA"},      Mapping{"ɒ", "AA"},      Mapping{"a", "AA"},
    Mapping{"ɔ", "AO"},      Mapping{"o", "OW"},      Mapping{"ʊ", "UH"},      Mapping{"u", "UW"},
    Mapping{"ɛ", "EH"},      Mapping{"e", "EH"},
    // Consonants.
    Mapping{"p", "P"},   Mapping{"b", "B"},   Mapping{"t", "T"},   Mapping{"d", "D"},   Mapping{"k", "K"},
    Mapping{"ɡ", "G"},   Mapping{"g", "G"},   Mapping{"f", "F"},   Mapping{"v", "V"},   Mapping{"θ", "TH"},
    Mapping{"ð", "DH"},  Mapping{"s", "S"},   Mapping{"z", "Z"},   Mapping{"ʃ", "SH"},  Mapping{"ʒ", "ZH"},
    Mapping{"h", "HH"},  Mapping{"m", "M"},   Mapping{"n", "N"},   Mapping{"ŋ", "NG"},  Mapping{"l", "L"},
    Mapping{"ɫ", "L"},   Mapping{"ɹ", "R"},   Mapping{"r", "R"},   Mapping{"j", "Y"},   Mapping{"w", "W"},
    Mapping{"ʍ", "W"},   Mapping{"x", "K"},   Mapping{"ç", "HH"},  Mapping{"ʔ", "T"},   Mapping{"ɾ", "T"},
};

// Marks that carry no phone: primary and secondary stress, length on its
// own, the syllable break, a tie.
bool skip_mark(std::string_view rest, size_t* len) {
  for (std::string_view m : {"ˈ", "ˌ", "ː", ".", "\xCD\xA1", "-"}) {
    if (rest.substr(0, m.size()) == m) {
      *len = m.size();
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> ipa_to_cmu(std::string_view ipa) {
  std::vector<std::string> phones;
  size_t i = 0;
  while (i < ipa.size()) {
    if (ipa[i] == '|' || ipa[i] == ' ' || ipa[i] == '_') {
      ++i;
      continue;
    }
    size_t len = 0;
    if (skip_mark(ipa.substr(i), &len)) {
      i += len;
      continue;
    }
    const Mapping* best = nullptr;
    for (const auto& m : kMap) {
      if (ipa.substr(i, m.ipa.size()) == m.ipa && (best == nullptr || m.ipa.size() > best->ipa.size())) best = &m;
    }
    if (best == nullptr) return {};
    std::string_view cmu = best->cmu;
    while (!cmu.empty()) {
      const auto sp = cmu.find(' ');
      phones.emplace_back(cmu.substr(0, sp));
      cmu = sp == std::string_view::npos ? std::string_view{} : cmu.substr(sp + 1);
    }
    i += best->ipa.size();
  }
  return phones;
}

core::Result<std::vector<std::string>> cmu_pronunciations(const std::string& word) {
  std::string ipa;
  {
    std::lock_guard lock(tts::espeak_mutex());
    if (auto started = tts::espeak_start_locked(); !started) return started.status();
    if (espeak_SetVoiceByName("en-us") != EE_OK) return core::unavailable("espeak-ng has no en-us voice");
    const void* text = word.c_str();
    // A word may come back in pieces (clauses); collect them all.
    while (text != nullptr) {
      const char* ph = espeak_TextToPhonemes(&text, espeakCHARS_UTF8, espeakPHONEMES_IPA | ('|' << 8));
      if (ph == nullptr) break;
      if (!ipa.empty()) ipa += '|';
      ipa += ph;
    }
  }
  // Flaps are the one sound the dictionary spells two ways.
  std::vector<std::string> phones = ipa_to_cmu(ipa);
  if (phones.empty()) return core::not_found("no pronunciation for '" + word + "' (espeak-ng: " + ipa + ")");
  auto join = [](const std::vector<std::string>& p) {
    std::string s;
    for (const auto& x : p) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  std::vector<std::string> out = {join(phones)};
  if (ipa.find("ɾ") != std::string::npos) {
    // The same mapping with D for each flap.
    const std::string_view flap = "ɾ";
    std::string with_d;
    for (size_t i = 0; i < ipa.size();) {
      if (std::string_view(ipa).substr(i, flap.size()) == flap) {
        with_d += 'd';
        i += flap.size();
      } else {
        with_d += ipa[i++];
      }
    }
    if (auto d = ipa_to_cmu(with_d); !d.empty() && join(d) != out[0]) out.push_back(join(d));
  }
  return out;
}

}  // namespace parley::engines::stt
