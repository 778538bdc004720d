// SPDX-License-Identifier: GPL-3.0-or-later
// Script mode: the text a speaker reads, and where they are in it.
//
// Each final is aligned to the script's words with a fitting alignment: all
// of the final's words, against any stretch of the script. It tolerates
// what readers and recognisers do: a misheard word (a substitution), a word
// dropped or added, a passage skipped (a jump, of any length, for a fixed
// cost), a return to an earlier passage, and words the speaker added that
// the script does not have. Stretches of the script that the final matches
// well enough are shown as the script's own words and punctuation; the rest
// of the final (an ad-lib, a stretch the recogniser got wrong) is kept as
// recognised, so nothing the speaker did not say is shown as said.
//
// A ScriptFollower is driven by one thread (the session's worker).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "words/spoken.h"

namespace parley::words {

class Script {
 public:
  explicit Script(std::string text);
  const std::string& text() const { return text_; }
  const std::vector<Token>& tokens() const { return tokens_; }
  size_t n_sentences() const { return sentence_first_token_.size(); }
  // The sentence that token `t` belongs to, and the first token of sentence `s`.
  size_t sentence_of(size_t t) const;
  size_t first_token(size_t sentence) const;
  // Sentence `s` as written (trimmed).
  std::string_view sentence_text(size_t s) const;
  // This script with `more` read after it (a section pasted while live).
  Script followed_by(std::string_view more) const;

 private:
  std::string text_;
  std::vector<Token> tokens_;
  std::vector<size_t> sentence_first_token_;
};

// One piece of a final as shown.
struct ShownPiece {
  std::string text;
  bool from_script = false;
};

struct ScriptMatch {
  std::vector<ShownPiece> pieces;
  // The final as shown: pieces joined by spaces.
  std::string text() const;
  bool any_from_script() const;
  // Script words the final covered ([first, end) tokens; empty when none),
  // and how many of the final's words matched them.
  size_t first_token = 0;
  size_t end_token = 0;
  size_t n_matched = 0;
};

class ScriptFollower {
 public:
  explicit ScriptFollower(Script script) : script_(std::move(script)) {}
  const Script& script() const { return script_; }

  // Aligns a final's recognised words (lower case, spaces between) and
  // moves the position past what matched. `recognised_sentence` is how the
  // final reads without the script (capitalised, punctuated): it is what is
  // shown for stretches that do not match.
  ScriptMatch follow(std::string_view recognised_words, std::string_view recognised_sentence);

  // The speaker jumped: the next words are expected from sentence `s`.
  void seek_sentence(size_t s);
  // More script, read after what is there (pasted while live). The
  // position stays where it is.
  void append(std::string_view more);
  // Where the speaker is: the next token expected.
  size_t position() const { return position_; }
  size_t position_sentence() const;

 private:
  Script script_;
  size_t position_ = 0;
};

}  // namespace parley::words
