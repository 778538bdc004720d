// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/ngram.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace parley::words {
namespace {

constexpr const char* kStart = "<s>";
constexpr const char* kEnd = "</s>";
constexpr const char* kUnknown = "<UNK>";  // as the recogniser's library spells it

std::string fmt(double log10_value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", log10_value);
  return buf;
}

double log10_clamped(double p) { return p > 0 ? std::log10(p) : -99.0; }

}  // namespace

NgramBuilder::Id NgramBuilder::id(const std::string& w) {
  auto [it, added] = ids_.emplace(w, static_cast<Id>(words_.size()));
  if (added) {
    words_.push_back(w);
    unigram_.push_back(0);
  }
  return it->second;
}

void NgramBuilder::add_sentence(const std::vector<std::string>& words) {
  if (words.empty()) return;
  std::vector<Id> s;
  s.reserve(words.size() + 2);
  s.push_back(id(kStart));
  for (const auto& w : words) s.push_back(id(w));
  s.push_back(id(kEnd));
  for (size_t i = 1; i < s.size(); ++i) {
    ++unigram_[static_cast<size_t>(s[i])];
    auto& b = bigram_[s[i - 1]];
    ++b.next[s[i]];
    ++b.total;
    if (i >= 2) {
      auto& t = trigram_[{s[i - 2], s[i - 1]}];
      ++t.next[s[i]];
      ++t.total;
    }
  }
  ++n_sentences_;
}

std::vector<std::string> NgramBuilder::vocabulary() const {
  std::vector<std::string> v;
  for (const auto& w : words_) {
    if (w != kStart && w != kEnd) v.push_back(w);
  }
  return v;
}

std::string NgramBuilder::arpa() const {
  if (n_sentences_ == 0) return {};
  const Id start = ids_.at(kStart);
  // Unigrams: add-one over every word but <s> (which is never predicted).
  double n_tokens = 0;
  for (size_t i = 0; i < words_.size(); ++i) {
    if (static_cast<Id>(i) != start) n_tokens += unigram_[i];
  }
  // Every word but <s>. <UNK> is never predicted: a word the text lacks
  // gets nothing from it (a floor for every such word would lift all the
  // recogniser's rare words at once).
  const double n_types = static_cast<double>(words_.size() - 1);
  std::vector<double> p1(words_.size(), 0.0);
  for (size_t i = 0; i < words_.size(); ++i) {
    if (static_cast<Id>(i) != start) p1[i] = (unigram_[i] + 1.0) / (n_tokens + n_types);
  }
  // Witten-Bell probability of a seen follower, and the back-off weight
  // that spreads the unseen mass over the shorter history's distribution
  // of the words not seen after this history.
  auto seen_p = [](const Follow& f, int c) {
    return c / (static_cast<double>(f.total) + static_cast<double>(f.next.size()));
  };
  auto unseen_mass = [](const Follow& f) {
    return static_cast<double>(f.next.size()) / (static_cast<double>(f.total) + static_cast<double>(f.next.size()));
  };
  std::vector<double> bow1(words_.size(), 0.0);  // per unigram history
  std::map<std::pair<Id, Id>, double> p2;
  for (const auto& [h, f] : bigram_) {
    double lower_seen = 0;
    for (const auto& [w, c] : f.next) {
      p2[{h, w}] = seen_p(f, c);
      lower_seen += p1[static_cast<size_t>(w)];
    }
    bow1[static_cast<size_t>(h)] = unseen_mass(f) / std::max(1e-9, 1.0 - lower_seen);
  }
  // The bigram probability with back-off, for the trigram back-off weights.
  auto p_bigram = [&](Id h, Id w) {
    if (auto it = p2.find({h, w}); it != p2.end()) return it->second;
    return bow1[static_cast<size_t>(h)] * p1[static_cast<size_t>(w)];
  };
  std::map<std::pair<Id, Id>, double> bow2;
  size_t n_trigrams = 0;
  for (const auto& [h, f] : trigram_) {
    double lower_seen = 0;
    for (const auto& [w, c] : f.next) lower_seen += p_bigram(h.second, w);
    bow2[h] = unseen_mass(f) / std::max(1e-9, 1.0 - lower_seen);
    n_trigrams += f.next.size();
  }

  std::string out = "\\data\\\n";
  out += "ngram 1=" + std::to_string(words_.size() + 1) + "\n";
  out += "ngram 2=" + std::to_string(p2.size()) + "\n";
  out += "ngram 3=" + std::to_string(n_trigrams) + "\n\n\\1-grams:\n";
  for (size_t i = 0; i < words_.size(); ++i) {
    const bool is_start = static_cast<Id>(i) == start;
    out += fmt(is_start ? -99.0 : log10_clamped(p1[i])) + "\t" + words_[i];
    if (bigram_.count(static_cast<Id>(i)) != 0) {
      out += '\t';
      out += fmt(log10_clamped(bow1[i]));
    }
    out += "\n";
  }
  out += fmt(-99.0) + "\t" + kUnknown + "\t" + fmt(std::log10(kUnknownHistoryBackoff)) + "\n";
  out += "\n\\2-grams:\n";
  for (const auto& [hw, p] : p2) {
    out += fmt(log10_clamped(p)) + "\t" + words_[static_cast<size_t>(hw.first)] + " " +
           words_[static_cast<size_t>(hw.second)];
    if (auto it = bow2.find(hw); it != bow2.end()) {
      out += '\t';
      out += fmt(log10_clamped(it->second));
    }
    out += "\n";
  }
  out += "\n\\3-grams:\n";
  for (const auto& [h, f] : trigram_) {
    for (const auto& [w, c] : f.next) {
      out += fmt(log10_clamped(seen_p(f, c))) + "\t" + words_[static_cast<size_t>(h.first)] + " " +
             words_[static_cast<size_t>(h.second)] + " " + words_[static_cast<size_t>(w)] + "\n";
    }
  }
  out += "\n\\end\\\n";
  return out;
}

}  // namespace parley::words
