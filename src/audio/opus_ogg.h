// SPDX-License-Identifier: GPL-3.0-or-later
// Ogg Opus encoding (libopus + libogg). Each call makes one complete Ogg
// Opus stream ("link"): browsers decode it with decodeAudioData, and links
// concatenated with distinct serial numbers form a valid chained Ogg stream
// for plain HTTP players. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "audio/pcm.h"
#include "core/status.h"

namespace parley::audio {

struct OpusSettings {
  int bitrate_bps = 32000;
  int sample_rate_hz = 24000;  // Opus-native rate the audio is resampled to
  int complexity = 5;
};

core::Result<std::string> encode_ogg_opus(const MonoPcm& pcm, uint32_t serial,
                                          const OpusSettings& settings = {});

}  // namespace parley::audio
