// SPDX-License-Identifier: GPL-3.0-or-later
#include "transcript/wer.h"

#include <algorithm>
#include <cctype>

namespace parley::transcript {

std::vector<std::string> normalise_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && cur.back() == '\'') cur.pop_back();
    // Abbreviated titles are spelling variants, not recognition errors.
    if (cur == "mr") cur = "mister";
    else if (cur == "mrs") cur = "missus";
    else if (cur == "dr") cur = "doctor";
    if (!cur.empty()) words.push_back(cur);
    cur.clear();
  };
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80 || (c == '\'' && !cur.empty())) {
      cur += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

WerCounts& WerCounts::operator+=(const WerCounts& o) {
  n_reference += o.n_reference;
  n_substitutions += o.n_substitutions;
  n_deletions += o.n_deletions;
  n_insertions += o.n_insertions;
  return *this;
}

WerCounts word_errors(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  // Levenshtein alignment keeping the operation counts of the best path.
  struct Cell {
    size_t cost, sub, del, ins;
  };
  std::vector<Cell> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = {j, 0, 0, j};
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = {i, 0, i, 0};
    for (size_t j = 1; j <= hyp.size(); ++j) {
      Cell diag = prev[j - 1];
      if (ref[i - 1] != hyp[j - 1]) {
        ++diag.cost;
        ++diag.sub;
      }
      Cell del = prev[j];
      ++del.cost;
      ++del.del;
      Cell ins = cur[j - 1];
      ++ins.cost;
      ++ins.ins;
      cur[j] = std::min({diag, del, ins}, [](const Cell& a, const Cell& b) { return a.cost < b.cost; });
    }
    std::swap(prev, cur);
  }
  const Cell& end = prev[hyp.size()];
  return {ref.size(), end.sub, end.del, end.ins};
}

}  // namespace parley::transcript
