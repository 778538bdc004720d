// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/strong_words.h"

#include <algorithm>

#include "core/spacing.h"

namespace parley::pipeline {
namespace {

// The code point at `i` (advancing `i`); a broken sequence reads as one byte.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      n = 1;
      cp = b;
      break;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += n;
  return cp;
}

// Letters of the Latin scripts these languages use (ASCII, Latin-1, Latin
// Extended-A and -B), and digits.
bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  return cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7;
}

char32_t lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x100 && cp <= 0x17F && cp % 2 == 0) return cp + 1;  // Latin Extended-A pairs (most)
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Token {
  size_t begin, end;
  std::string lower;
};

// Words: runs of letters, joined by a hyphen between letters ("foda-se").
std::vector<Token> tokens(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t at = i;
    char32_t cp = next_code_point(s, i);
    if (!is_letter(cp)) continue;
    Token t{at, i, {}};
    append_utf8(t.lower, lower(cp));
    for (;;) {
      size_t j = i;
      if (j >= s.size()) break;
      char32_t c = next_code_point(s, j);
      if (is_letter(c)) {
        append_utf8(t.lower, lower(c));
        i = j;
        continue;
      }
      if (c == '-' && j < s.size()) {
        size_t k = j;
        if (is_letter(next_code_point(s, k))) {
          t.lower += '-';
          i = j;
          continue;
        }
      }
      break;
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  return out;
}

bool only_spaces(std::string_view s) { return s.find_first_not_of(" \t\n\r") == std::string_view::npos; }

}  // namespace

StrongWords StrongWords::parse(std::string_view list) {
  StrongWords w;
  size_t at = 0;
  while (at <= list.size()) {
    size_t eol = list.find('\n', at);
    if (eol == std::string_view::npos) eol = list.size();
    std::string_view line = list.substr(at, eol - at);
    at = eol + 1;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    std::vector<std::string> words;
    for (auto& t : tokens(line)) words.push_back(std::move(t.lower));
    if (!words.empty()) w.phrases_.push_back(std::move(words));
  }
  return w;
}

std::vector<StrongWords::Match> StrongWords::matches(std::string_view text) const {
  std::vector<Match> out;
  if (phrases_.empty()) return out;
  const auto toks = tokens(text);
  for (size_t i = 0; i < toks.size();) {
    size_t matched = 0;
    for (const auto& p : phrases_) {
      if (p.size() <= matched || i + p.size() > toks.size()) continue;
      bool ok = true;
      for (size_t k = 0; k < p.size() && ok; ++k) {
        ok = toks[i + k].lower == p[k] &&
             (k == 0 || only_spaces(text.substr(toks[i + k - 1].end, toks[i + k].begin - toks[i + k - 1].end)));
      }
      if (ok) matched = p.size();  // the longest phrase that matches here
    }
    if (matched == 0) {
      ++i;
      continue;
    }
    std::string key;
    for (size_t k = 0; k < matched; ++k) key += (k ? " " : "") + toks[i + k].lower;
    out.push_back({toks[i].begin, toks[i + matched - 1].end, std::move(key)});
    i += matched;
  }
  return out;
}

std::vector<StrongWords::Match> StrongWords::carried(std::string_view text, std::string_view source) const {
  auto found = matches(text);
  if (found.empty()) return found;
  const auto in_source = matches(source);
  std::erase_if(found, [&](const Match& m) {
    return std::none_of(in_source.begin(), in_source.end(), [&](const Match& s) { return s.key == m.key; });
  });
  return found;
}

bool StrongWords::has_letters(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (is_letter(next_code_point(text, i))) return true;
  }
  return false;
}

std::string StrongWords::mask(std::string_view text) const { return masked(text, matches(text)); }
std::string StrongWords::drop(std::string_view text) const { return dropped(text, matches(text)); }
std::string StrongWords::mask_carried(std::string_view text, std::string_view source) const {
  return masked(text, carried(text, source));
}
std::string StrongWords::drop_carried(std::string_view text, std::string_view source) const {
  return dropped(text, carried(text, source));
}

std::string StrongWords::masked(std::string_view text, const std::vector<Match>& found) {
  std::string out;
  size_t at = 0;
  for (const auto& m : found) {
    out.append(text.substr(at, m.begin - at));
    size_t i = m.begin;
    bool first = true;
    while (i < m.end) {
      const size_t from = i;
      const char32_t cp = next_code_point(text, i);
      if (is_letter(cp) && !first) out += '*';
      else out.append(text.substr(from, i - from));
      if (is_letter(cp)) first = false;
    }
    at = m.end;
  }
  out.append(text.substr(at));
  return out;
}

std::string StrongWords::dropped(std::string_view text, const std::vector<Match>& found) {
  if (found.empty()) return std::string(text);
  std::string out;
  size_t at = 0;
  for (const auto& m : found) {
    out.append(text.substr(at, m.begin - at));
    at = m.end;
  }
  out.append(text.substr(at));
  out = core::tidy_spacing(out, "");
  // "Shit, it broke." is said "it broke.", not ", it broke."
  out.erase(0, out.find_first_not_of(",;: "));
  return out;
}

}  // namespace parley::pipeline
