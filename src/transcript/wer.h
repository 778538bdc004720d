// SPDX-License-Identifier: GPL-3.0-or-later
// Word error rate, for evaluating recognisers against reference transcripts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::transcript {

// Lower-cased words with punctuation removed (apostrophes inside words kept)
// and abbreviated titles spelled out (mr → mister), as WER scoring usually does.
std::vector<std::string> normalise_words(std::string_view text);

struct WerCounts {
  size_t n_reference = 0;
  size_t n_substitutions = 0;
  size_t n_deletions = 0;
  size_t n_insertions = 0;
  size_t errors() const { return n_substitutions + n_deletions + n_insertions; }
  double wer() const { return n_reference == 0 ? 0.0 : static_cast<double>(errors()) / n_reference; }
  WerCounts& operator+=(const WerCounts& o);
};

WerCounts word_errors(const std::vector<std::string>& reference,
                      const std::vector<std::string>& hypothesis);

}  // namespace parley::transcript
