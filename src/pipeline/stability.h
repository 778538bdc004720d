// SPDX-License-Identifier: GPL-3.0-or-later
// Partial captions that do not flicker. A recogniser's partial hypotheses
// revise their last words as more audio arrives; a listener sees a word
// appear and vanish. Two pieces:
//
// - RetractionMeter counts, for one utterance, the words shown and the words
//   later taken back (by a newer partial or by the final): the
//   "retraction rate" exported per session and at /metrics.
// - LocalAgreement (LocalAgreement-2, as in streaming Whisper) shows only the
//   words on which the last two hypotheses agree, and never takes a shown
//   word back itself; only the final may still differ. Finals are not
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
  // Feeds the newest hypothesis; returns the words to show: the longest
  // prefix it shares with the previous hypothesis, and never less than what
  // was shown before.
  const std::vector<std::string>& update(const std::vector<std::string>& hypothesis);
  void reset();

 private:
  std::vector<std::string> previous_;
  std::vector<std::string> committed_;
};

}  // namespace parley::pipeline
