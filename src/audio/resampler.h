// SPDX-License-Identifier: GPL-3.0-or-later
// Sample-rate conversion through soxr.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "audio/pcm.h"
#include "core/status.h"

namespace parley::audio {

// Whole-buffer conversion (offline files).
core::Result<MonoPcm> resample(const MonoPcm& in, int out_rate_hz);

// Streaming conversion for live audio: push blocks of any size, get converted
// samples back with soxr's small fixed delay. One thread at a time.
class StreamResampler {
 public:
  static core::Result<std::unique_ptr<StreamResampler>> create(int in_rate_hz, int out_rate_hz);
  ~StreamResampler();
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;

  // Appends the converted samples of `in` to `out`.
  void process(std::span<const float> in, std::vector<float>& out);
  // Drains what soxr still holds (end of stream).
  void flush(std::vector<float>& out);

  int in_rate_hz() const { return in_rate_hz_; }
  int out_rate_hz() const { return out_rate_hz_; }

 private:
  StreamResampler(void* soxr, int in_rate_hz, int out_rate_hz);
  void* soxr_;  // soxr_t; kept opaque to keep soxr.h out of this header
  int in_rate_hz_;
  int out_rate_hz_;
};

}  // namespace parley::audio
