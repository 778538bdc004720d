// SPDX-License-Identifier: GPL-3.0-or-later
// Partial captions that do not flicker. A recogniser's partial hypotheses
// revise their last words as more audio arrives; a listener sees a word
// appear and vanish. Two pieces:
//
// - RetractionMeter counts, for one utterance, the words shown and the words
//   later taken back (by a newer partial or by the final): the
//   "retraction rate" exported per session and at /metrics. Words count as
//   kept when they survive in order (longest common subsequence), so a word
//   inserted or dropped at the start does not count the whole line.
// - LocalAgreement (LocalAgreement-n, as in streaming Whisper) shows only the
//   words on which the last n hypotheses agree; it takes a shown word back
//   only when every recent hypothesis has replaced it. The live pipeline uses
//   n = 3 (2.2 % of words retracted on LibriVox instead of 56 %; words reach
//   the screen ~0.6 s later, docs/benchmarks.md). Finals are not
//   delayed: they are sent the moment the utterance ends, as before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::pipeline {

std::vector<std::string> split_words(const std::string& text);

struct RetractionCount {
  uint64_t shown = 0;      // words put on screen (each time a word appears)
  uint64_t retracted = 0;  // of those, taken back or changed later
  double rate() const { return shown == 0 ? 0.0 : static_cast<double>(retracted) / static_cast<double>(shown); }
  RetractionCount& operator+=(const RetractionCount& o) {
    shown += o.shown;
    retracted += o.retracted;
    return *this;
  }
};

class RetractionMeter {
 public:
  // The words now on screen for the open utterance (a partial).
  void show(const std::vector<std::string>& words);
  // The final replaces the partial; the utterance is closed and the meter
  // starts afresh. Returns this utterance's count.
  RetractionCount finish(const std::vector<std::string>& final_words);
  const RetractionCount& count() const { return count_; }

 private:
  std::vector<std::string> on_screen_;
  RetractionCount count_;
};

class LocalAgreement {
 public:
  // Words must agree across the last `n` hypotheses (n ≥ 2) to be shown.
  explicit LocalAgreement(size_t n = 2) : n_(n < 2 ? 2 : n) {}
  // Feeds the newest hypothesis; returns the words to show: the longest
  // prefix it shares with the previous n-1 hypotheses, and never less than
  // what was shown before.
  const std::vector<std::string>& update(const std::vector<std::string>& hypothesis);
  void reset();

 private:
  size_t n_;
  std::vector<std::vector<std::string>> recent_;  // the last n-1 hypotheses
  std::vector<std::string> committed_;
};

}  // namespace parley::pipeline
