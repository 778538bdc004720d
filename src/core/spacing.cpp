// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/spacing.h"

#include <array>

namespace parley::core {
namespace {

constexpr std::string_view kNarrowNoBreak = "\u202F";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> marks) {
  for (auto m : marks) {
    if (s.substr(0, m.size()) == m) return true;
  }
  return false;
}

bool ends_with_any(std::string_view s, std::initializer_list<std::string_view> marks) {
  for (auto m : marks) {
    if (s.size() >= m.size() && s.substr(s.size() - m.size()) == m) return true;
  }
  return false;
}

// Marks that sit against the word before them in every language.
bool closes(std::string_view rest) {
  return starts_with_any(rest, {".", ",", ")", "]", "}", "\u2026", "\u201D", "\u2019"});
}
// Marks French sets off with a (narrow no-break) space; others do not.
bool high_mark(std::string_view rest) { return starts_with_any(rest, {";", ":", "!", "?", "\u00BB"}); }
// Marks that sit against the word after them.
bool opens(std::string_view done) {
  return ends_with_any(done, {"(", "[", "{", "\u00BF", "\u00A1", "\u201C", "\u2018"});
}

}  // namespace

std::string tidy_spacing(std::string_view text, std::string_view language) {
  const bool french = language == "fr" || language.substr(0, 3) == "fr-";
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!is_space(text[i])) {
      if (french && !out.empty()) {
        const std::string_view rest = text.substr(i);
        // ; ! ? » and a colon that ends a clause ("10:30", "https://" keep theirs).
        const bool mark = starts_with_any(rest, {";", "!", "?", "\u00BB"}) ||
                          (rest[0] == ':' && (rest.size() == 1 || is_space(rest[1])));
        const bool spaced = ends_with_any(out, {kNarrowNoBreak, "\u00A0", "!", "?", ";", ":", "(", "\u00AB"});
        const bool after_open = ends_with_any(out, {"\u00AB"}) && !starts_with_any(rest, {kNarrowNoBreak, "\u00A0"});
        if ((mark && !spaced) || after_open) out += kNarrowNoBreak;
      }
      out += text[i++];
      continue;
    }
    while (i < text.size() && is_space(text[i])) ++i;
    if (out.empty() || i == text.size()) continue;  // no space at either end
    const std::string_view rest = text.substr(i);
    if (closes(rest) || opens(out)) continue;
    if (high_mark(rest)) {
      if (french) out += kNarrowNoBreak;
      continue;
    }
    if (french && ends_with_any(out, {"\u00AB"})) {
      out += kNarrowNoBreak;
      continue;
    }
    if (ends_with_any(out, {"\u00AB"})) continue;
    out += ' ';
  }
  return out;
}

}  // namespace parley::core
