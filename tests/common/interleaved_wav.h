// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a PCM16 WAV with any channel count by hand (the product's writer
// is mono only), for tests of multi-channel input.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace parley::testing {

inline void write_interleaved_wav16(const std::string& path, const std::vector<int16_t>& interleaved,
                                    uint16_t channels, uint32_t rate_hz) {
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  const auto data_bytes = static_cast<uint32_t>(interleaved.size() * 2);
  const auto frame_bytes = static_cast<uint16_t>(channels * 2);
  f.write("RIFF", 4);
  u32(36 + data_bytes);
  f.write("WAVE", 4);
  f.write("fmt ", 4);
  u32(16);
  u16(1);  // PCM
  u16(channels);
  u32(rate_hz);
  u32(rate_hz * frame_bytes);
  u16(frame_bytes);
  u16(16);
  f.write("data", 4);
  u32(data_bytes);
  f.write(reinterpret_cast<const char*>(interleaved.data()), data_bytes);
}

}  // namespace parley::testing
