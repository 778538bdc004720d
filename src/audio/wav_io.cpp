// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/wav_io.h"

#include <sndfile.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "audio/resampler.h"

namespace parley::audio {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Longest input accepted, so a hostile header cannot make us allocate without bound.
constexpr int64_t kMaxInputSeconds = 6 * 3600;

}  // namespace

core::Result<MonoPcm> read_audio_file(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      return core::not_found("cannot open '" + path + "': " + std::strerror(errno));
    }
  }
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    return core::invalid_argument("'" + path + "' is not a readable audio file (" +
                                  sf_strerror(nullptr) +
                                  "); give a WAV, FLAC or Ogg recording");
  }
  if (info.channels <= 0 || info.samplerate <= 0) {
    return core::invalid_argument("'" + path + "' has no audio channels");
  }
  if (info.samplerate < 4000 || info.samplerate > 384000) {
    return core::invalid_argument("'" + path + "' has an unusable sample rate of " +
                                  std::to_string(info.samplerate) + " Hz");
  }
  if (info.frames > kMaxInputSeconds * info.samplerate) {
    return core::invalid_argument("'" + path + "' is longer than 6 hours; split it first");
  }

  MonoPcm out;
  out.sample_rate_hz = info.samplerate;
  const int channels = info.channels;
  std::vector<float> block(static_cast<size_t>(4096) * channels);
  out.samples.reserve(info.frames > 0 ? static_cast<size_t>(info.frames) : 0);
  for (;;) {
    sf_count_t n = sf_readf_float(file.get(), block.data(), 4096);
    if (n <= 0) break;
    for (sf_count_t i = 0; i < n; ++i) {
      float sum = 0.0F;
      for (int c = 0; c < channels; ++c) sum += block[static_cast<size_t>(i * channels + c)];
      out.samples.push_back(sum / static_cast<float>(channels));
    }
  }
  if (out.samples.empty()) {
    return core::invalid_argument("'" + path + "' contains no audio samples");
  }
  return out;
}

core::Result<MonoPcm> read_audio_file_16k(const std::string& path) {
  auto pcm = read_audio_file(path);
  if (!pcm) return pcm.status();
  if (pcm->sample_rate_hz == kPipelineRateHz) return pcm;
  return resample(*pcm, kPipelineRateHz);
}

core::Status write_wav16(const std::string& path, const MonoPcm& pcm) {
  SF_INFO info{};
  info.samplerate = pcm.sample_rate_hz;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) {
    return core::unavailable("cannot write '" + path + "': " + sf_strerror(nullptr));
  }
  const auto n = static_cast<sf_count_t>(pcm.samples.size());
  if (sf_writef_float(file.get(), pcm.samples.data(), n) != n) {
    return core::unavailable("short write to '" + path + "': " + sf_strerror(file.get()));
  }
  return core::Status::ok();
}

}  // namespace parley::audio
