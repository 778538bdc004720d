// SPDX-License-Identifier: GPL-3.0-or-later
// A written text as the words a recogniser would hear: the common ground of
// a session's vocabulary (what the recogniser should expect) and its script
// (what it is shown instead). English-oriented, like the embedded recogniser:
// ASCII letters are lower-cased, digits are spelt out ("1984" → "nineteen
// eighty four", "3" → "three"), hyphens and slashes split words, apostrophes
// inside words stay ("don't"), other punctuation goes. Letters outside ASCII
// are kept as they are.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::words {

// The most text a session's vocabulary, or its script, may hold (the API
// and the command line refuse more): about 40,000 words, a long book
// chapter or a two-hour speech.
inline constexpr size_t kMaxTextBytes = 256 * 1024;

// One spoken word and where it came from in the text (bytes [begin, end)).
// A written number gives several tokens with the same span.
struct Token {
  std::string word;
  size_t begin = 0;
  size_t end = 0;
  // The first token of a sentence (after . ! ? or a blank line, or the
  // text's start).
  bool sentence_start = false;
};

std::vector<Token> spoken_tokens(std::string_view text);

// The text's sentences as spoken words, for a language model: split at
// . ! ? ; : and at line breaks (agendas and name lists are one item a line).
std::vector<std::vector<std::string>> spoken_sentences(std::string_view text);

// The names in a text, as written, once each: capitalised words that do not
// start a sentence ("Elinor", "Quillfeather"), and every word of a line
// that is a list item of capitalised words (a name per line). At most
// `max_names`.
std::vector<std::string> names_in(std::string_view text, size_t max_names = 2000);

// "0" … "999999999" as English words; empty for anything else.
std::vector<std::string> number_words(std::string_view digits);

}  // namespace parley::words
