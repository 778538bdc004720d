// SPDX-License-Identifier: GPL-3.0-or-later
// A small back-off trigram model of a session's own text (its vocabulary or
// script), written in ARPA format for the recogniser's language-model
// library to read and interpolate with its generic model.
//
// Smoothing is Witten-Bell: after a history h seen c(h) times with T(h)
// different next words, a seen word w gets c(h,w) / (c(h) + T(h)) and the
// rest, T(h) / (c(h) + T(h)), backs off to the shorter history. It suits
// small texts, where most n-grams are seen once, better than fixed
// discounts. Unigrams are add-one smoothed over the text's words.
//
// Words the text lacks are <UNK> to the recogniser's library. After one of
// them, this model gives only kUnknownHistoryBackoff of its unigram
// distribution: a text has little to say about what follows a word it does
// not contain, and without this the frequent words of a small text ("of" in
// "ace of spades") would be pushed after any word at all.
//
// Not thread-safe; build on one thread, then hand the text on.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::words {

inline constexpr double kUnknownHistoryBackoff = 0.01;

class NgramBuilder {
 public:
  // Adds a sentence (spoken words, in order); <s> and </s> are added here.
  void add_sentence(const std::vector<std::string>& words);
  size_t n_sentences() const { return n_sentences_; }
  // Distinct words seen (without <s> and </s>).
  std::vector<std::string> vocabulary() const;
  // The model in ARPA text. Empty when no sentence was added.
  std::string arpa() const;

 private:
  using Id = int;
  Id id(const std::string& w);
  struct Follow {
    std::map<Id, int> next;  // next word → count
    int total = 0;
  };
  std::unordered_map<std::string, Id> ids_;
  std::vector<std::string> words_;
  std::vector<int> unigram_;                 // by id
  std::map<Id, Follow> bigram_;              // history w1 → followers
  std::map<std::pair<Id, Id>, Follow> trigram_;  // history (w1, w2) → followers
  size_t n_sentences_ = 0;
};

}  // namespace parley::words
