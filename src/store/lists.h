// SPDX-License-Identifier: GPL-3.0-or-later
// A list of language codes in one column ("es,fr"), as both stores keep a
// session's default targets.
#pragma once

#include <string>
#include <vector>

namespace parley::store {

inline std::string join_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

}  // namespace parley::store
