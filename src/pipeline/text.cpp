// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/text.h"

#include <cctype>

#include "core/spacing.h"

namespace parley::pipeline {

std::string to_sentence(std::string_view words, std::string_view language) {
  std::string s = core::tidy_spacing(words, language);
  if (s.empty()) return {};
  if (language == "en") {
    // Standalone "i" and its contractions ("i'm", "i'll").
    for (size_t i = 0; i < s.size(); ++i) {
      bool start = i == 0 || s[i - 1] == ' ';
      bool end = i + 1 == s.size() || s[i + 1] == ' ' || s[i + 1] == '\'';
      if (s[i] == 'i' && start && end) s[i] = 'I';
    }
  }
  s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  char last = s.back();
  if (last != '.' && last != '?' && last != '!') s += '.';
  return s;
}

}  // namespace parley::pipeline
