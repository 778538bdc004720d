// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/spoken.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/utf8.h"

namespace parley::words {
namespace {

constexpr std::array<const char*, 20> kOnes = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",
    "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char*, 10> kTens = {"",      "",      "twenty",  "thirty", "forty",
                                               "fifty", "sixty", "seventy", "eighty", "ninety"};

void below_thousand(int n, std::vector<std::string>& out) {
  if (n >= 100) {
    out.emplace_back(kOnes[static_cast<size_t>(n / 100)]);
    out.emplace_back("hundred");
    n %= 100;
    if (n == 0) return;
  }
  if (n < 20) {
    out.emplace_back(kOnes[static_cast<size_t>(n)]);
    return;
  }
  out.emplace_back(kTens[static_cast<size_t>(n / 10)]);
  if (n % 10 != 0) out.emplace_back(kOnes[static_cast<size_t>(n % 10)]);
}

// A letter of a word: ASCII letters, and code points outside ASCII that are
// not punctuation, symbols or spaces (quotes, dashes, ellipses, arrows).
bool is_letter_cp(uint32_t cp) {
  if (cp < 0x80) return std::isalpha(static_cast<int>(cp)) != 0;
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 punctuation and signs
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;             // general punctuation, symbols, arrows
  if (cp >= 0x3000 && cp <= 0x303F) return false;             // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE6F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
  return true;
}

// The letter at text[i] and its length in bytes; 0 when it is not one.
size_t letter_at(std::string_view text, size_t i) {
  const auto [cp, n] = core::utf8_decode(text, i);
  return n > 0 && is_letter_cp(cp) ? n : 0;
}

// Titles said in full ("Mr." is "mister"): what a recogniser's dictionary
// and a reader both say.
struct Spelt {
  std::string_view written;
  std::string_view said;
};
constexpr std::array<Spelt, 6> kTitles = {{{"mr", "mister"}, {"mrs", "missus"}, {"dr", "doctor"},
                                           {"prof", "professor"}, {"st", "saint"}, {"vs", "versus"}}};
// Abbreviations after which a full stop does not end a sentence.
// `written` is the word as written.
bool is_abbreviation(std::string_view written) {
  if (written.size() == 1) return written[0] >= 'A' && written[0] <= 'Z';  // an initial: "J. K. Rowling"
  std::string lower(written);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (std::string_view a : {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "vol", "fig", "gen",
                             "col", "lt", "sgt", "capt", "rev", "hon"}) {
    if (lower == a) return true;
  }
  return false;
}

// Characters that end a sentence for the language model: these, and line breaks.
bool ends_clause(char c) { return c == '.' || c == '!' || c == '?' || c == ';' || c == ':'; }

bool is_lower_ascii(char c) { return c >= 'a' && c <= 'z'; }


}  // namespace

std::vector<std::string> number_words(std::string_view digits) {
  if (digits.empty() || digits.size() > 9) return {};
  long n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return {};
    n = n * 10 + (c - '0');
  }
  std::vector<std::string> out;
  // Four-digit years are said in pairs: "nineteen eighty four", "eighteen oh five".
  if (digits.size() == 4 && digits[0] != '0' && n >= 1100 && n <= 1999 && n % 100 != 0) {
    below_thousand(static_cast<int>(n / 100), out);
    const int rest = static_cast<int>(n % 100);
    if (rest < 10) out.emplace_back("oh");
    below_thousand(rest, out);
    return out;
  }
  if (n == 0) return {"zero"};
  if (n >= 1'000'000) {
    below_thousand(static_cast<int>(n / 1'000'000), out);
    out.emplace_back("million");
    n %= 1'000'000;
  }
  if (n >= 1000) {
    below_thousand(static_cast<int>(n / 1000), out);
    out.emplace_back("thousand");
    n %= 1000;
  }
  if (n > 0) below_thousand(static_cast<int>(n), out);
  return out;
}

std::vector<Token> spoken_tokens(std::string_view text) {
  std::vector<Token> out;
  bool at_start = true;
  size_t i = 0;
  int newlines = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      if (++newlines >= 2) at_start = true;
      ++i;
      continue;
    }
    if (c == '!' || c == '?') at_start = true;
    // A full stop ends a sentence, unless it ends an abbreviation or an initial.
    if (c == '.' && !(!out.empty() && out.back().end == i &&
                      is_abbreviation(text.substr(out.back().begin, out.back().end - out.back().begin)))) {
      at_start = true;
    }
    if (std::isdigit(c) != 0) {
      newlines = 0;
      size_t j = i;
      std::string digits;
      // "1,000" and "1.5": digits joined by one separator read as one number
      // (thousands) or as "point" (decimals).
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) {
        digits += text[j++];
        if (j + 1 < text.size() && text[j] == ',' && std::isdigit(static_cast<unsigned char>(text[j + 1])) != 0) ++j;
      }
      std::vector<std::string> spoken = number_words(digits);
      if (j + 1 < text.size() && text[j] == '.' && std::isdigit(static_cast<unsigned char>(text[j + 1])) != 0) {
        spoken.emplace_back("point");
        ++j;
        while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) {
          spoken.emplace_back(kOnes[static_cast<size_t>(text[j] - '0')]);
          ++j;
        }
      }
      if (spoken.empty()) {  // too long to say: one digit at a time
        for (char d : digits) spoken.emplace_back(kOnes[static_cast<size_t>(d - '0')]);
      }
      for (auto& w : spoken) {
        out.push_back({std::move(w), i, j, at_start});
        at_start = false;
      }
      i = j;
      continue;
    }
    if (letter_at(text, i) == 0) {
      if (c != ' ' && c != '\t' && c != '\r') newlines = 0;
      const auto [cp, n] = core::utf8_decode(text, i);
      i += n > 0 ? n : 1;
      continue;
    }
    newlines = 0;
    size_t j = i;
    std::string word;
    while (j < text.size()) {
      const auto d = static_cast<unsigned char>(text[j]);
      if (const size_t n = letter_at(text, j); n > 0) {
        if (n == 1) {
          word += static_cast<char>(std::tolower(d));
        } else {
          word.append(text.substr(j, n));
        }
        j += n;
        continue;
      }
      // An apostrophe inside a word (ASCII, or U+2019), followed by a letter.
      const size_t len = d == '\'' ? 1 : text.substr(j, 3) == "\xE2\x80\x99" ? 3 : 0;
      if (len == 0 || word.empty() || j + len >= text.size() || letter_at(text, j + len) == 0) break;
      word += '\'';
      j += len;
    }
    // A sentence starts with a capital (or a letter without case).
    const bool starts = at_start && !(is_lower_ascii(text[i]));
    bool said = false;
    for (const auto& t : kTitles) {
      if (word == t.written) {
        out.push_back({std::string(t.said), i, j, starts});
        said = true;
      }
    }
    if (!said) out.push_back({std::move(word), i, j, starts});
    at_start = false;
    i = j;
  }
  return out;
}

std::vector<std::string> names_in(std::string_view text, size_t max_names) {
  std::vector<std::string> out;
  const auto tokens = spoken_tokens(text);
  for (size_t i = 0; i < tokens.size() && out.size() < max_names; ++i) {
    const auto& t = tokens[i];
    const auto first = static_cast<unsigned char>(text[t.begin]);
    if (!(first >= 'A' && first <= 'Z')) continue;
    // At a sentence start only when the line holds nothing else but names
    // (a list of names, one a line).
    if (t.sentence_start || i == 0) {
      const size_t line_end = text.find('\n', t.begin);
      const size_t next = i + 1 < tokens.size() ? tokens[i + 1].begin : text.size();
      const bool own_line = (t.begin == 0 || text[t.begin - 1] == '\n') && next >= std::min(line_end, text.size());
      if (!own_line) continue;
    }
    std::string written(text.substr(t.begin, t.end - t.begin));
    if (written.size() < 2 || std::find(out.begin(), out.end(), written) != out.end()) continue;
    out.push_back(std::move(written));
  }
  return out;
}

std::vector<std::vector<std::string>> spoken_sentences(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> cur;
  size_t line_start = 0;
  // Clause by clause: cut the text at clause marks and line breaks, then
  // tokenise each piece (numbers such as "1.5" are kept whole by checking
  // for a digit after the mark).
  auto flush = [&](size_t from, size_t to) {
    for (auto& t : spoken_tokens(text.substr(from, to - from))) cur.push_back(std::move(t.word));
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool digit_next = i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])) != 0;
    const bool digit_before = i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1])) != 0;
    // "Mr." and "J." do not end a sentence.
    bool abbreviation = false;
    if (c == '.') {
      size_t b = i;
      while (b > 0 && std::isalpha(static_cast<unsigned char>(text[b - 1])) != 0) --b;
      abbreviation = i > b && is_abbreviation(text.substr(b, i - b));
    }
    if (c == '\n' || (ends_clause(c) && !(digit_next && digit_before) && !abbreviation)) {
      flush(line_start, i);
      line_start = i + 1;
    }
  }
  flush(line_start, text.size());
  return out;
}

}  // namespace parley::words
