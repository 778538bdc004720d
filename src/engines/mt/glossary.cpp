// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/mt/glossary.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "engines/language.h"

namespace parley::engines::mt {
namespace {

char fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool is_word_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80 || c == '_';
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// Case-insensitive whole-word search for `needle` in `hay` from `pos`.
size_t find_word(std::string_view hay, std::string_view needle, size_t pos) {
  if (needle.empty()) return std::string_view::npos;
  for (size_t i = pos; i + needle.size() <= hay.size(); ++i) {
    if (i > 0 && is_word_byte(hay[i - 1])) continue;
    size_t end = i + needle.size();
    if (end < hay.size() && is_word_byte(hay[end])) continue;
    bool eq = true;
    for (size_t k = 0; k < needle.size() && eq; ++k) eq = fold(hay[i + k]) == fold(needle[k]);
    if (eq) return i;
  }
  return std::string_view::npos;
}

}  // namespace

Glossary::Glossary(std::vector<GlossaryEntry> entries) : entries_(std::move(entries)) {
  std::stable_sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.source.size() > b.source.size();
  });
}

core::Result<Glossary> Glossary::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::not_found("cannot open glossary '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

core::Result<Glossary> Glossary::parse(std::string_view content, const std::string& origin) {
  std::vector<GlossaryEntry> entries;
  size_t line_no = 0;
  while (!content.empty()) {
    ++line_no;
    auto nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> cols;
    std::string_view rest = line;
    while (true) {
      auto tab = rest.find('\t');
      cols.push_back(trim(rest.substr(0, tab)));
      if (tab == std::string_view::npos) break;
      rest = rest.substr(tab + 1);
    }
    auto where = origin + ":" + std::to_string(line_no) + ": ";
    if (cols.size() != 4) {
      return core::invalid_argument(where + "expected 4 tab-separated columns (from, to, source "
                                    "term, target term), found " + std::to_string(cols.size()));
    }
    auto from = normalize_language(cols[0]);
    auto to = cols[1] == "*" ? std::optional<std::string>("*") : normalize_language(cols[1]);
    if (!from || !to) return core::invalid_argument(where + "unknown language code");
    if (cols[2].empty() || cols[3].empty()) {
      return core::invalid_argument(where + "empty term");
    }
    entries.push_back({*from, *to, cols[2], cols[3]});
  }
  return Glossary(std::move(entries));
}

std::string Glossary::placeholder(size_t i) { return "Xq" + std::to_string(i + 1); }

Protected Glossary::protect(std::string_view text, const std::string& from,
                            const std::string& to) const {
  Protected p{std::string(text), {}};
  for (const auto& e : entries_) {
    if (e.from != from || (e.to != "*" && e.to != to)) continue;
    size_t pos = 0;
    while ((pos = find_word(p.text, e.source, pos)) != std::string::npos) {
      std::string ph = placeholder(p.targets.size());
      p.text.replace(pos, e.source.size(), ph);
      p.targets.push_back(e.target);
      pos += ph.size();
    }
  }
  return p;
}

std::string Glossary::restore(std::string_view translated, const Protected& p, size_t* n_missing) {
  std::string out(translated);
  size_t missing = 0;
  // Highest index first so "Xq1" never matches inside "Xq12".
  for (size_t i = p.targets.size(); i-- > 0;) {
    std::string ph = placeholder(i);
    size_t pos = find_word(out, ph, 0);
    if (pos == std::string::npos) {
      ++missing;
      continue;
    }
    while (pos != std::string::npos) {
      out.replace(pos, ph.size(), p.targets[i]);
      pos = find_word(out, ph, pos + p.targets[i].size());
    }
  }
  if (n_missing != nullptr) *n_missing = missing;
  return out;
}

std::vector<std::string> Glossary::kept_terms(const std::string& from) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.from == from && e.to == "*" && e.source == e.target &&
        std::find(out.begin(), out.end(), e.source) == out.end()) {
      out.push_back(e.source);
    }
  }
  return out;
}

std::vector<std::string> Glossary::source_terms(const std::string& from) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.from == from && std::find(out.begin(), out.end(), e.source) == out.end()) out.push_back(e.source);
  }
  return out;
}

}  // namespace parley::engines::mt
