// SPDX-License-Identifier: GPL-3.0-or-later
// A latency histogram with fixed bucket bounds, safe to observe from any
// thread without a lock, read as a Prometheus histogram (cumulative buckets,
// sum, count). Bounds are in seconds.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley::core {

class Histogram {
 public:
  // 5 ms … 10 s: covers one stage (a few ms) up to end-to-end speech (seconds).
  static constexpr std::array<double, 16> kBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25,
                                                     0.35,  0.5,  0.7,   0.8,  1.0,   2.0, 5.0,  10.0};

  void observe(double seconds) {
    if (!(seconds >= 0)) return;  // negative or NaN: a stage that was never reached
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }

  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> cumulative{};  // last entry: +Inf = count
    double sum_seconds = 0;
    uint64_t count() const { return cumulative.back(); }
    // The bucket bound at or above quantile q (0..1); +Inf is reported as the last bound.
    double quantile_bound(double q) const {
      if (count() == 0) return 0;
      const auto rank = static_cast<uint64_t>(q * static_cast<double>(count()) + 0.5);
      for (size_t i = 0; i < kBounds.size(); ++i) {
        if (cumulative[i] >= rank) return kBounds[i];
      }
      return kBounds.back();
    }
  };

  Snapshot snapshot() const {
    Snapshot s;
    uint64_t running = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      s.cumulative[i] = running;
    }
    s.sum_seconds = static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_us_{0};
};

}  // namespace parley::core
