// SPDX-License-Identifier: GPL-3.0-or-later
#include "load/measure.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <time.h>

#include "audio/wav_io.h"

namespace parley::load {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::pair<std::string, unsigned short> host_port(const std::string& flag, const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(flag + " is HOST:PORT");
  return {value.substr(0, colon), static_cast<unsigned short>(std::stoi(value.substr(colon + 1)))};
}

// The measured servers' /proc figures, summed; nothing without --server-pid.
core::ProcessStats server_stats(const std::vector<int>& pids) {
  core::ProcessStats sum;
  for (int pid : pids) {
    const auto one = core::read_process_stats(pid);
    sum.ok = one.ok;
    sum.cpu_seconds += one.cpu_seconds;
    sum.system_seconds += one.system_seconds;
    sum.resident_bytes += one.resident_bytes;
  }
  return sum;
}

// ---------------------------------------------------------------- speech ends in a WAV


// Speech ends: 10 ms frames above -40 dBFS are speech; 300 ms of quiet ends a segment.
Script load_script(const std::vector<std::string>& paths) {
  Script s;
  for (const auto& path : paths) {
    auto pcm = audio::read_audio_file_16k(path);
    if (!pcm) throw std::runtime_error(path + ": " + pcm.status().message());
    s.samples.insert(s.samples.end(), pcm->samples.begin(), pcm->samples.end());
    s.samples.insert(s.samples.end(), 24000, 0.0F);  // 1.5 s apart
  }
  s.length_ms = static_cast<int64_t>(s.samples.size()) / 16;
  const size_t hop = 160;
  int quiet = 0;
  int64_t last_speech_end = -1;
  for (size_t f = 0; f * hop < s.samples.size(); ++f) {
    double e = 0;
    const size_t to = std::min(s.samples.size(), (f + 1) * hop);
    for (size_t i = f * hop; i < to; ++i) e += static_cast<double>(s.samples[i]) * s.samples[i];
    const bool speech = std::sqrt(e / static_cast<double>(to - f * hop)) > 0.01;
    if (speech) {
      quiet = 0;
      last_speech_end = static_cast<int64_t>(to / 16);
    } else {
      ++quiet;
      if (quiet == 10 && last_speech_end >= 0) s.pause_starts_ms.push_back(last_speech_end);
      if (quiet == 30 && last_speech_end >= 0) {
        s.speech_ends_ms.push_back(last_speech_end);
        last_speech_end = -1;
      }
    }
  }
  if (last_speech_end >= 0) {
    s.speech_ends_ms.push_back(last_speech_end);
    if (s.pause_starts_ms.empty() || s.pause_starts_ms.back() != last_speech_end) s.pause_starts_ms.push_back(last_speech_end);
  }
  if (s.speech_ends_ms.empty()) throw std::runtime_error("the recordings hold no speech");
  return s;
}

namespace {
int64_t latest_before(const std::vector<int64_t>& ends, int64_t length_ms, int64_t ms) {
  const int64_t loop = ms / length_ms;
  for (int64_t l = loop; l >= std::max<int64_t>(0, loop - 1); --l) {
    for (auto it = ends.rbegin(); it != ends.rend(); ++it) {
      const int64_t e = l * length_ms + *it;
      if (e <= ms) return e;
    }
  }
  return -1;
}
}  // namespace

// The latest true end of speech at or before stream position `ms` (the
// server's segment end comes after it by the hangover). -1 if none.
int64_t true_end_before(const Script& s, int64_t ms) { return latest_before(s.speech_ends_ms, s.length_ms, ms); }

int64_t pause_start_before(const Script& s, int64_t ms) { return latest_before(s.pause_starts_ms, s.length_ms, ms); }

}  // namespace parley::load
