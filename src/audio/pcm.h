// SPDX-License-Identifier: GPL-3.0-or-later
// Mono PCM audio as the pipeline carries it: float samples in [-1, 1].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace parley::audio {

// The rate every speech engine in the pipeline consumes.
inline constexpr int kPipelineRateHz = 16000;
// 10 ms at the pipeline rate: the unit the VAD works in.
inline constexpr int kFrameSamples = kPipelineRateHz / 100;

struct MonoPcm {
  std::vector<float> samples;
  int sample_rate_hz = 0;

  double duration_s() const {
    return sample_rate_hz > 0 ? static_cast<double>(samples.size()) / sample_rate_hz : 0.0;
  }
};

// Float → PCM16 with clipping; PCM16 → float.
std::vector<int16_t> to_pcm16(std::span<const float> samples);
std::vector<float> from_pcm16(std::span<const int16_t> samples);

// Milliseconds ↔ samples at a rate, rounded down.
inline int64_t ms_to_samples(int64_t ms, int rate_hz) { return ms * rate_hz / 1000; }
inline int64_t samples_to_ms(int64_t n, int rate_hz) { return rate_hz > 0 ? n * 1000 / rate_hz : 0; }

}  // namespace parley::audio
