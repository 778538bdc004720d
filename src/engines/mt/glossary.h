// SPDX-License-Identifier: GPL-3.0-or-later
// A glossary of term pairs that every translation must honour: names, product
// terms, a church's or a clinic's vocabulary. Engine-independent: terms are
// swapped for opaque placeholders before translation (engines copy unknown
// tokens through) and the target terms are put in their place afterwards.
//
// File format, UTF-8, one pair per line, tab-separated:
//   from  to  source term  target term
// `to` may be `*` for every target (e.g. a name kept as it is). Blank lines
// and lines starting with '#' are ignored. Matching is whole-word and
// ASCII-case-insensitive; longer terms win over shorter ones.
// Immutable after loading; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::engines::mt {

struct GlossaryEntry {
  std::string from;
  std::string to;  // "*" for any target
  std::string source;
  std::string target;
};

// Text with placeholders, and what each placeholder stands for.
struct Protected {
  std::string text;
  std::vector<std::string> targets;  // placeholder i → targets[i]
};

class Glossary {
 public:
  Glossary() = default;
  explicit Glossary(std::vector<GlossaryEntry> entries);

  // invalid_argument naming the file and line for a malformed line.
  static core::Result<Glossary> load(const std::string& path);
  static core::Result<Glossary> parse(std::string_view content, const std::string& origin);

  bool empty() const { return entries_.empty(); }
  // The source terms of pairs from `from`, once each: they join a
  // session's vocabulary, so the recogniser expects them.
  std::vector<std::string> source_terms(const std::string& from) const;
  // The source terms kept as they are in every language (`to` *, the
  // target term the same): names.
  std::vector<std::string> kept_terms(const std::string& from) const;
  size_t size() const { return entries_.size(); }

  Protected protect(std::string_view text, const std::string& from, const std::string& to) const;
  // Replaces placeholders with target terms. `n_missing` counts placeholders
  // the engine lost (an engine bug worth a log line; the text is still usable).
  static std::string restore(std::string_view translated, const Protected& p, size_t* n_missing);

  // The placeholder token for index i, exposed for tests.
  static std::string placeholder(size_t i);

 private:
  std::vector<GlossaryEntry> entries_;  // sorted: longest source first
};

}  // namespace parley::engines::mt
