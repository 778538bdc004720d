// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/stability.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace parley::pipeline {

namespace {

// Words compare without case or trailing punctuation ("Hello," == "hello").
std::string key(const std::string& w) {
  std::string k;
  for (char c : w) {
    if (!std::ispunct(static_cast<unsigned char>(c))) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return k;
}

size_t common_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && key(a[n]) == key(b[n])) ++n;
  return n;
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void RetractionMeter::show(const std::vector<std::string>& words) {
  const size_t keep = common_prefix(on_screen_, words);
  count_.retracted += on_screen_.size() - keep;
  count_.shown += words.size() - keep;
  on_screen_ = words;
}

RetractionCount RetractionMeter::finish(const std::vector<std::string>& final_words) {
  const size_t keep = common_prefix(on_screen_, final_words);
  count_.retracted += on_screen_.size() - keep;
  count_.shown += final_words.size() - keep;
  RetractionCount c = count_;
  on_screen_.clear();
  count_ = {};
  return c;
}

const std::vector<std::string>& LocalAgreement::update(const std::vector<std::string>& hypothesis) {
  const size_t agreed = common_prefix(previous_, hypothesis);
  // Grow what is shown only when the agreement extends it.
  if (agreed > committed_.size() && common_prefix(committed_, hypothesis) == committed_.size()) {
    committed_.assign(hypothesis.begin(), hypothesis.begin() + static_cast<std::ptrdiff_t>(agreed));
  }
  previous_ = hypothesis;
  return committed_;
}

void LocalAgreement::reset() {
  previous_.clear();
  committed_.clear();
}

}  // namespace parley::pipeline
