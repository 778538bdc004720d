// SPDX-License-Identifier: GPL-3.0-or-later
// Strong language, for sessions whose speaker asked to hide it (off by
// default: many deaf viewers want captions exactly as said). The lists are
// hand-written files, one per language (web/strong-words/<language>.txt: a
// word or phrase a line, '#' comments), matched as whole words in any case.
// Captions show a masked word by its first letter ("b*******"); speech
// leaves it out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::pipeline {

class StrongWords {
 public:
  StrongWords() = default;
  // From a list file's text.
  static StrongWords parse(std::string_view list);

  bool empty() const { return phrases_.empty(); }
  // "That was bullshit." → "That was b*******."
  std::string mask(std::string_view text) const;
  // "That was bullshit." → "That was." (what the voice says)
  std::string drop(std::string_view text) const;
  // The same, for a translation: only the words of this (the source
  // language's) list that `source` also has, i.e. that a translation engine
  // passed through untranslated. "Le chien va bite" from "the dog will bite"
  // keeps its word; "C'est bullshit" from "It is bullshit" does not.
  std::string mask_carried(std::string_view text, std::string_view source) const;
  std::string drop_carried(std::string_view text, std::string_view source) const;
  // Whether `text` has a letter or digit (speech made of punctuation alone is not said).
  static bool has_letters(std::string_view text);

 private:
  struct Match {
    size_t begin, end;
    std::string key;  // the phrase matched, lower case
  };
  std::vector<Match> matches(std::string_view text) const;
  std::vector<Match> carried(std::string_view text, std::string_view source) const;
  static std::string masked(std::string_view text, const std::vector<Match>& found);
  static std::string dropped(std::string_view text, const std::vector<Match>& found);
  std::vector<std::vector<std::string>> phrases_;  // lower-cased words
};

}  // namespace parley::pipeline
