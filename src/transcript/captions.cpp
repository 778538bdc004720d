// SPDX-License-Identifier: GPL-3.0-or-later
#include "transcript/captions.h"

#include <algorithm>
#include <cstdio>

namespace parley::transcript {
namespace {

constexpr int64_t kMinCueMs = 500;

std::string safe_text(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\r' || c == '\n') c = ' ';  // a blank line would end the cue
    if (c == '-' && in.compare(i, 3, "-->") == 0) {
      out += "->";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

template <typename HeaderFn>
std::string render(const std::vector<Cue>& cues, char sep, HeaderFn header) {
  std::string out;
  int n = 0;
  for (const auto& c : cues) {
    ++n;
    int64_t start = std::max<int64_t>(0, c.start_ms);
    int64_t end = std::max(c.end_ms, start + kMinCueMs);
    out += header(n);
    out += format_timestamp(start, sep) + " --> " + format_timestamp(end, sep) + "\n";
    out += safe_text(c.text) + "\n\n";
  }
  return out;
}

}  // namespace

std::string format_timestamp(int64_t ms, char fraction_separator) {
  if (ms < 0) ms = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld",
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), fraction_separator,
                static_cast<long long>(ms % 1000));
  return buf;
}

std::string to_webvtt(const std::vector<Cue>& cues) {
  return "WEBVTT\n\n" + render(cues, '.', [](int) { return std::string(); });
}

std::string to_srt(const std::vector<Cue>& cues) {
  return render(cues, ',', [](int n) { return std::to_string(n) + "\n"; });
}

}  // namespace parley::transcript
