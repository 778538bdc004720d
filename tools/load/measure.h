// SPDX-License-Identifier: GPL-3.0-or-later
// What the load tool's modes share: a latency histogram that child
// processes can merge, and where speech really ends in a recording.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/process_stats.h"

namespace parley::load {

// CLOCK_MONOTONIC in ns: every process on the machine shares it.
int64_t now_ns();

// A HOST:PORT option's value; `flag` names it in the error.
std::pair<std::string, unsigned short> host_port(const std::string& flag, const std::string& value);

// The measured servers' /proc figures, summed; nothing without pids.
core::ProcessStats server_stats(const std::vector<int>& pids);

// 50 µs buckets up to 20 s; beyond goes to the last bucket.
class Histogram {
 public:
  static constexpr int64_t kBucketNs = 50000;
  static constexpr size_t kBuckets = 400000;
  Histogram() : counts_(kBuckets, 0) {}
  void add(int64_t ns) {
    const auto i = static_cast<size_t>(std::clamp<int64_t>(ns / kBucketNs, 0, kBuckets - 1));
    ++counts_[i];
    ++n_;
  }
  void merge_line(std::istringstream& in) {
    size_t i = 0;
    uint64_t c = 0;
    char colon = 0;
    while (in >> i >> colon >> c) {
      if (i < kBuckets) {
        counts_[i] += c;
        n_ += c;
      }
    }
  }
  std::string serialize() const {
    std::string out;
    for (size_t i = 0; i < kBuckets; ++i) {
      if (counts_[i] != 0) out += std::to_string(i) + ":" + std::to_string(counts_[i]) + " ";
    }
    return out;
  }
  uint64_t count() const { return n_; }
  double quantile_ms(double q) const {
    if (n_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= std::max<uint64_t>(rank, 1)) return static_cast<double>((i + 1) * kBucketNs) / 1e6;
    }
    return static_cast<double>(kBuckets * kBucketNs) / 1e6;
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
};

// Recordings a speaker streams, and where their speech ends.
struct Script {
  std::vector<float> samples;      // 16 kHz mono
  std::vector<int64_t> speech_ends_ms;  // where speech really ends, in file time
  // Where every pause of 100 ms or more starts (a server may end an
  // utterance in a short pause inside a sentence).
  std::vector<int64_t> pause_starts_ms;
  int64_t length_ms = 0;
};

// Reads and joins `paths` (1.5 s apart). Speech ends: 10 ms frames above
// -40 dBFS are speech; 300 ms of quiet ends a segment. Throws when a file
// cannot be read or holds no speech.
Script load_script(const std::vector<std::string>& paths);
// The latest true end of speech at or before stream position `ms` (the
// server's segment end comes after it by the hangover). -1 if none.
int64_t true_end_before(const Script& s, int64_t ms);
// The same over every pause of 100 ms or more: where the speech a segment
// ending at `ms` holds really stopped, when the server cut it in a short
// pause rather than at a sentence's end.
int64_t pause_start_before(const Script& s, int64_t ms);

}  // namespace parley::load
