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

 private:
  struct Match {
    size_t begin, end;
  };
  std::vector<Match> matches(std::string_view text) const;
  std::vector<std::vector<std::string>> phrases_;  // lower-cased words
};

}  // namespace parley::pipeline
