// SPDX-License-Identifier: GPL-3.0-or-later
// A session's vocabulary and script as pocketsphinx uses them: words the
// dictionary lacks are added with espeak-ng's pronunciations
// (espeak_phones.h), and the decoder searches with the generic language
// model interpolated with trigram models of the session's texts
// (words/ngram.h), through sphinxbase's language-model set:
//
//   P(w | h) = (1 - λv - λs) P_generic + λv P_vocabulary + λs P_script
//
// λv = kVocabularyWeight, λs = kScriptWeight (each only when that text is
// given). A related text's words are rare in the generic model, so even a
// small λv lifts them hundreds of times; a larger one only takes more from
// the words the text lacks. λv = 0.2 and 0.05 were both measured on every
// source of the development set (docs/benchmarks.md): 0.05 was as good or
// better on each. A script is what will be said: most of the mass.
#pragma once

#include <pocketsphinx.h>

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engines/stt/stt.h"

namespace parley::engines::stt {

inline constexpr float kVocabularyWeight = 0.05F;
inline constexpr float kScriptWeight = 0.6F;
// Beyond these a vocabulary is cut (the API limits the text's size first).
inline constexpr size_t kMaxNewWords = 5000;

// What every decoder of one adaptation gets: computed once.
struct PreparedWords {
  std::string vocabulary_arpa;  // empty: no vocabulary text
  std::string script_arpa;      // empty: no script
  // Words to add to the dictionary, with their phones; an alternate
  // pronunciation is named "word(2)" as in the dictionary file.
  std::vector<std::pair<std::string, std::string>> new_words;
  std::vector<std::string> missing;  // words the dictionary lacks, before pronounce_missing
  Adaptation::Stats stats;
};

// Tokenises the texts, builds their models and lists the words `ps` (a
// decoder of the generic model, borrowed only for this) does not know.
core::Result<PreparedWords> prepare_words(ps_decoder_t* ps, const Vocabulary& vocabulary);
// Finds pronunciations for the missing words (espeak-ng; no decoder needed).
void pronounce_missing(PreparedWords& words);

// The dictionary file at `generic_path` with the new words added, as an
// in-memory file (a descriptor, for "/proc/self/fd/N"; the caller closes it).
core::Result<int> session_dictionary(const std::string& generic_path, const PreparedWords& words);

// Makes the interpolated model the search of `ps`, a decoder made with
// session_dictionary (when there are new words).
core::Status apply_words(ps_decoder_t* ps, const PreparedWords& words);

}  // namespace parley::engines::stt
