// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/ngram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

namespace parley::words {
namespace {

// Reads an ARPA text back: "w1 w2 ..." → (log10 prob, log10 backoff).
std::map<std::string, std::pair<double, double>> parse(const std::string& arpa) {
  std::map<std::string, std::pair<double, double>> out;
  std::istringstream in(arpa);
  std::string line;
  int order = 0;
  while (std::getline(in, line)) {
    if (line.size() > 2 && line[0] == '\\' && line.find("-grams:") != std::string::npos) {
      order = line[1] - '0';
      continue;
    }
    if (order == 0 || line.empty() || line[0] == '\\') continue;
    std::istringstream f(line);
    double p = 0;
    f >> p;
    std::string words, w;
    for (int i = 0; i < order; ++i) {
      f >> w;
      words += (i ? " " : "") + w;
    }
    double bo = 0;
    f >> bo;
    out[words] = {p, bo};
  }
  return out;
}

TEST(Ngram, EveryHistorysDistributionSumsToOne) {
  NgramBuilder b;
  b.add_sentence({"the", "cat", "sat"});
  b.add_sentence({"the", "cat", "ran"});
  b.add_sentence({"a", "dog", "sat"});
  auto lm = parse(b.arpa());
  std::vector<std::string> vocab = {"the", "cat", "sat", "ran", "a", "dog", "</s>"};
  auto p1 = [&](const std::string& w) { return std::pow(10.0, lm.at(w).first); };
  auto p2 = [&](const std::string& h, const std::string& w) {
    if (auto it = lm.find(h + " " + w); it != lm.end()) return std::pow(10.0, it->second.first);
    return std::pow(10.0, lm.at(h).second) * p1(w);
  };
  double uni = 0;
  for (const auto& w : vocab) uni += p1(w);
  EXPECT_NEAR(uni, 1.0, 1e-4);
  for (const std::string h : {"<s>", "the", "cat"}) {
    double sum = 0;
    for (const auto& w : vocab) sum += p2(h, w);
    EXPECT_NEAR(sum, 1.0, 1e-4) << "after " << h;
  }
  // A trigram history: P(w | the cat) over the vocabulary.
  double tri = 0;
  for (const auto& w : vocab) {
    if (auto it = lm.find("the cat " + w); it != lm.end()) {
      tri += std::pow(10.0, it->second.first);
    } else {
      tri += std::pow(10.0, lm.at("the cat").second) * p2("cat", w);
    }
  }
  EXPECT_NEAR(tri, 1.0, 1e-4);
  EXPECT_GT(p2("the", "cat"), p2("the", "dog")) << "seen continuations are the likely ones";
  // After a word the text lacks, the model says little.
  EXPECT_NEAR(std::pow(10.0, lm.at("<UNK>").second), kUnknownHistoryBackoff, 1e-6);
  EXPECT_LT(lm.at("<UNK>").first, -90) << "and never predicts a word it lacks";
}

TEST(Ngram, NothingAddedIsNoModel) {
  NgramBuilder b;
  b.add_sentence({});
  EXPECT_EQ(b.arpa(), "");
  EXPECT_TRUE(b.vocabulary().empty());
}

}  // namespace
}  // namespace parley::words
