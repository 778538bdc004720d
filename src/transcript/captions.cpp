// SPDX-License-Identifier: GPL-3.0-or-later
#include "transcript/captions.h"

#include <algorithm>
#include <cstdio>

namespace parley::transcript {
namespace {

constexpr int64_t kMinCueMs = 500;

// `vtt`: WebVTT reads '&' and '<' as the start of an entity or a tag, so
// they are written as entities (a name like "<b>Ana" stays text in every
// player); SRT has no escapes.
std::string safe_text(const std::string& in, bool vtt) {
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
    if (vtt && c == '&') {
      out += "&amp;";
    } else if (vtt && c == '<') {
      out += "&lt;";
    } else {
      out += c;
    }
  }
  return out;
}

template <typename HeaderFn>
std::string render(const std::vector<Cue>& cues, char sep, bool vtt, HeaderFn header) {
  std::string out;
  int n = 0;
  for (const auto& c : cues) {
    ++n;
    int64_t start = std::max<int64_t>(0, c.start_ms);
    int64_t end = std::max(c.end_ms, start + kMinCueMs);
    out += header(n);
    out += format_timestamp(start, sep) + " --> " + format_timestamp(end, sep) + "\n";
    out += safe_text(c.text, vtt) + "\n\n";
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
  return "WEBVTT\n\n" + render(cues, '.', /*vtt=*/true, [](int) { return std::string(); });
}

std::string to_srt(const std::vector<Cue>& cues) {
  return render(cues, ',', /*vtt=*/false, [](int n) { return std::to_string(n) + "\n"; });
}

}  // namespace parley::transcript
