// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/pcm.h"

#include <algorithm>
#include <cmath>

namespace parley::audio {

std::vector<int16_t> to_pcm16(std::span<const float> samples) {
  std::vector<int16_t> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    float s = samples[i];
    if (!std::isfinite(s)) s = 0.0F;
    s = std::clamp(s, -1.0F, 1.0F);
    out[i] = static_cast<int16_t>(std::lrint(s * 32767.0F));
  }
  return out;
}

std::vector<float> from_pcm16(std::span<const int16_t> samples) {
  std::vector<float> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) out[i] = static_cast<float>(samples[i]) / 32768.0F;
  return out;
}

}  // namespace parley::audio
