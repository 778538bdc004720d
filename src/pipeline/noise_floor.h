// SPDX-License-Identifier: GPL-3.0-or-later
// The level of the room's background, followed as it changes, so that a
// pause in steady noise (a crowd, a fan, a street) is still a pause.
//
// Each 10 ms frame's level is the mean power of the last three frames, in
// dBFS. The floor is the lowest of those levels over the last `window_ms`
// (minimum statistics: speech always has gaps between words within a few
// seconds, so the minimum is the background, not the voice); the peak is
// the highest. A frame `stands_out` when its level is above the floor by
// more than `margin_db` and by more than `peak_share` of the way from the
// floor to the peak (in dB): in noise that rises and falls (a crowd, a
// street), its ups are not taken for a voice that is louder still. The
// segmenter counts a frame as speech only when the VAD says voice and the
// frame stands out. In a quiet room the threshold sits far below any voice
// and the VAD alone decides, as before.
//
// Driven by one thread; no I/O, no allocation after construction.
#pragma once

#include <array>
#include <span>
#include <vector>

namespace parley::pipeline {

struct NoiseFloorConfig {
  bool enabled = true;
  double margin_db = 3.0;
  double peak_share = 0.45;
  double resume_db = 2.0;
  int window_ms = 4000;
};

class NoiseFloor {
 public:
  explicit NoiseFloor(NoiseFloorConfig config);

  // One 10 ms frame; returns its (smoothed) level in dBFS.
  double push(std::span<const float> frame);

  double level_db() const { return level_db_; }
  // The background level and the loudest level of the window; -120 before
  // the first frame.
  double floor_db() const;
  double peak_db() const;
  double threshold_db() const;
  bool stands_out() const { return !c_.enabled || standing_out_; }
  // The loudest sound of the window is less than 30 dB over the background:
  // pauses are harder to hear, so the endpointer waits longer for them.
  bool noisy() const { return c_.enabled && peak_db() - floor_db() < 30.0; }

 private:
  static constexpr int kBlockFrames = 50;  // one minimum per 500 ms
  NoiseFloorConfig c_;
  std::array<double, 3> recent_power_{};   // the last three frames' mean power
  int n_recent_ = 0;
  double level_db_ = -120.0;
  bool standing_out_ = false;
  std::vector<double> block_minima_;       // ring of finished blocks' minima
  std::vector<double> block_maxima_;       // and maxima
  size_t next_block_ = 0;
  size_t n_blocks_ = 0;
  double block_min_ = 0.0;
  double block_max_ = 0.0;
  int block_frames_ = 0;
};

}  // namespace parley::pipeline
