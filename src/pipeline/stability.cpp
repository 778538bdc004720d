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

// Words kept in place between two displays: the longest common subsequence,
// so one word changed at the start does not count the whole line as taken back.
size_t kept_words(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    const std::string ka = key(a[i - 1]);
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = ka == key(b[j - 1]) ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void RetractionMeter::show(const std::vector<std::string>& words) {
  const size_t keep = kept_words(on_screen_, words);
  count_.retracted += on_screen_.size() - keep;
  count_.shown += words.size() - keep;
  on_screen_ = words;
}

RetractionCount RetractionMeter::finish(const std::vector<std::string>& final_words) {
  const size_t keep = kept_words(on_screen_, final_words);
  count_.retracted += on_screen_.size() - keep;
  count_.shown += final_words.size() - keep;
  RetractionCount c = count_;
  on_screen_.clear();
  count_ = {};
  return c;
}

const std::vector<std::string>& LocalAgreement::update(const std::vector<std::string>& hypothesis) {
  size_t agreed = recent_.size() + 1 < n_ ? 0 : hypothesis.size();
  for (const auto& h : recent_) agreed = std::min(agreed, common_prefix(h, hypothesis));
  // Grow what is shown when the agreement extends it. When the hypotheses
  // have settled on something else (as long as what is shown, agreed by all
  // of them), follow them: a rare retraction beats a frozen line.
  const bool extends = common_prefix(committed_, hypothesis) == committed_.size();
  if (agreed > 0 && (extends ? agreed > committed_.size() : agreed >= committed_.size())) {
    committed_.assign(hypothesis.begin(), hypothesis.begin() + static_cast<std::ptrdiff_t>(agreed));
  }
  recent_.push_back(hypothesis);
  if (recent_.size() > n_ - 1) recent_.erase(recent_.begin());
  return committed_;
}

void LocalAgreement::reset() {
  recent_.clear();
  committed_.clear();
}

}  // namespace parley::pipeline
