// SPDX-License-Identifier: GPL-3.0-or-later
// Caption files: WebVTT and SubRip from timed cues.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::transcript {

struct Cue {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string text;
};

// "00:01:02.345" (WebVTT) or "00:01:02,345" (SRT).
std::string format_timestamp(int64_t ms, char fraction_separator);

// Cues with end ≤ start are given a minimum length; text is kept on one cue,
// with "-->" and blank lines (which would end a cue early) neutralised.
std::string to_webvtt(const std::vector<Cue>& cues);
std::string to_srt(const std::vector<Cue>& cues);

}  // namespace parley::transcript
