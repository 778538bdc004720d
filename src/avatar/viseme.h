// SPDX-License-Identifier: GPL-3.0-or-later
// Lip-sync for the listener avatar: mouth shapes (visemes) from the phonemes
// the TTS engine reports, as a timeline in sample positions of the
// synthesized audio. The browser draws the shapes and steps through the
// timeline on the audio clock, so the server spends nothing per avatar.
//
// The set is the 15 shapes common in lip-sync work (docs/avatar.md). The
// mapping is by IPA symbol, so it is the same for every language espeak-ng
// speaks: a language adds no table, only symbols, and a test checks that
// every symbol of every voice parley offers is known.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engines/tts/tts.h"

namespace parley::avatar {

enum class Viseme : uint8_t {
  sil = 0,  // rest: lips together, relaxed
  PP,       // p b m — lips pressed
  FF,       // f v — lower lip under the upper teeth
  TH,       // θ ð — tongue between the teeth
  DD,       // t d — tongue behind the upper teeth, jaw slightly open
  kk,       // k g ŋ x h — back of the tongue up, jaw open
  CH,       // ʃ ʒ tʃ dʒ — lips pushed forward, teeth close
  SS,       // s z ts — teeth close, lips spread
  nn,       // n l ɲ — tongue up, jaw a little open
  RR,       // r ɾ ɹ ʁ — lips slightly rounded
  aa,       // a ɑ æ ʌ — jaw wide open
  E,        // e ɛ ə — mid open, spread
  I,        // i ɪ j — nearly closed, spread wide
  O,        // o ɔ ø œ — round, mid open
  U,        // u ʊ w y — small round opening
};
inline constexpr int kVisemeCount = 15;

std::string_view viseme_name(Viseme v);

// The visemes of one phoneme symbol as espeak-ng writes it in IPA ("aʊ" is a
// diphthong: two shapes; "tʃ" one). Stress, length and diacritics are
// ignored. `unknown` (optional) counts code points that have no mapping; they
// take the neutral shape nn.
std::vector<Viseme> visemes_of(std::string_view ipa, int* unknown = nullptr);

struct TimelineEntry {
  Viseme viseme = Viseme::sil;
  int64_t sample = 0;  // from this sample on, until the next entry
};

struct Timeline {
  int sample_rate_hz = 0;
  std::vector<TimelineEntry> entries;  // ascending samples from 0; the last is sil
  // The shape at a sample (sil before the first entry and after the audio).
  Viseme at(int64_t sample) const;
};

struct TimelineOptions {
  int frame_ms = 10;             // time resolution
  float silence_rms = 0.01F;     // below this a frame is silent …
  int min_silence_ms = 60;       // … and this much silence closes the mouth
};

// Builds the timeline of one utterance from its phoneme events and audio:
// each phoneme holds until the next one (a diphthong's shapes share its time)
// and the mouth rests wherever the audio itself is silent.
Timeline build_timeline(std::span<const engines::tts::PhonemeEvent> phonemes,
                        std::span<const float> audio, int sample_rate_hz, TimelineOptions options = {});

}  // namespace parley::avatar
