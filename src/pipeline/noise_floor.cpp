// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/noise_floor.h"

#include <algorithm>
#include <cmath>

namespace parley::pipeline {
namespace {
constexpr double kSilenceDb = -120.0;
constexpr double kQuietestRoomDb = -70.0;
}

NoiseFloor::NoiseFloor(NoiseFloorConfig config) : c_(config) {
  block_minima_.resize(static_cast<size_t>(std::max(1, config.window_ms / (kBlockFrames * 10))));
  block_maxima_.resize(block_minima_.size());
}

double NoiseFloor::push(std::span<const float> frame) {
  double sum = 0.0;
  for (float s : frame) sum += static_cast<double>(s) * s;
  const double power = frame.empty() ? 0.0 : sum / static_cast<double>(frame.size());
  recent_power_[static_cast<size_t>(n_recent_ % 3)] = power;
  ++n_recent_;
  const int n = std::min(n_recent_, 3);
  double mean = 0.0;
  for (int i = 0; i < n; ++i) mean += recent_power_[static_cast<size_t>(i)];
  mean /= n;
  level_db_ = mean > 1e-12 ? 10.0 * std::log10(mean) : kSilenceDb;

  block_min_ = block_frames_ == 0 ? level_db_ : std::min(block_min_, level_db_);
  block_max_ = block_frames_ == 0 ? level_db_ : std::max(block_max_, level_db_);
  if (++block_frames_ == kBlockFrames) {
    block_minima_[next_block_] = block_min_;
    block_maxima_[next_block_] = block_max_;
    next_block_ = (next_block_ + 1) % block_minima_.size();
    n_blocks_ = std::min(n_blocks_ + 1, block_minima_.size());
    block_frames_ = 0;
  }
  standing_out_ = level_db_ > threshold_db() + (standing_out_ ? 0.0 : c_.resume_db);
  return level_db_;
}

double NoiseFloor::floor_db() const {
  double floor = block_frames_ > 0 ? block_min_ : 0.0;
  bool any = block_frames_ > 0;
  for (size_t i = 0; i < n_blocks_; ++i) {
    floor = any ? std::min(floor, block_minima_[i]) : block_minima_[i];
    any = true;
  }
  return std::max(any ? floor : kSilenceDb, kQuietestRoomDb);
}

double NoiseFloor::peak_db() const {
  double peak = block_frames_ > 0 ? block_max_ : kSilenceDb;
  for (size_t i = 0; i < n_blocks_; ++i) peak = std::max(peak, block_maxima_[i]);
  return peak;
}

double NoiseFloor::threshold_db() const {
  const double floor = floor_db();
  return floor + std::max(c_.margin_db, c_.peak_share * (peak_db() - floor));
}

}  // namespace parley::pipeline
