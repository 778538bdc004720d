// SPDX-License-Identifier: GPL-3.0-or-later
// Pronunciations for words that pocketsphinx's dictionary lacks (names,
// terms): espeak-ng's letter-to-sound rules and lexicon (its en-us voice)
// give the word's phonemes in IPA, which are mapped onto the 39 phones of
// the CMU dictionary that Debian's English model uses. A flap (ɾ, as in
// "better") is spelt T or D in the dictionary, so such words get both.
// Accuracy against the CMU dictionary itself: docs/benchmarks.md.
//
// Thread-safe (espeak-ng is serialised by its process-wide mutex).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::engines::stt {

// One or two pronunciations ("HH AH L OW"); not_found when espeak-ng gives
// phonemes that do not map (the word is then left out of the vocabulary).
core::Result<std::vector<std::string>> cmu_pronunciations(const std::string& word);

// espeak-ng's IPA phonemes, separated by '|' as it writes them with a
// separator ("h|ə|l|ˈoʊ"), as CMU phones; empty when one does not map.
// Exposed for tests.
std::vector<std::string> ipa_to_cmu(std::string_view ipa);

}  // namespace parley::engines::stt
