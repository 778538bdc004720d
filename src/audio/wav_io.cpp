// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/wav_io.h"

#include <sndfile.h>

#include <algorithm>
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

namespace {

// Reads an open file to mono; `what` names it in errors.
core::Result<MonoPcm> read_all(SNDFILE* opened, const SF_INFO& info, const std::string& what,
                               int64_t max_seconds = kMaxInputSeconds) {
  SndfilePtr file(opened);
  if (!file) {
    return core::invalid_argument(what + " is not a readable audio file (" + sf_strerror(nullptr) +
                                  "); give a WAV, FLAC, Ogg or MP3 recording");
  }
  if (info.channels <= 0 || info.samplerate <= 0) {
    return core::invalid_argument(what + " has no audio channels");
  }
  if (info.channels > 64) {
    return core::invalid_argument(what + " has " + std::to_string(info.channels) + " channels; at most 64");
  }
  if (info.samplerate < 4000 || info.samplerate > 384000) {
    return core::invalid_argument(what + " has an unusable sample rate of " + std::to_string(info.samplerate) + " Hz");
  }
  // Memory is what is bounded: above 48 kHz the limit in seconds shrinks.
  const int64_t max_frames = max_seconds * std::min(info.samplerate, 48000);
  const auto too_long = [&] {
    const int64_t allowed_s = max_frames / info.samplerate;
    return core::invalid_argument(what + " is longer than " + std::to_string(allowed_s) + " s" +
                                  (allowed_s < max_seconds ? " (at its " + std::to_string(info.samplerate) + " Hz rate)" : "") +
                                  "; split it first");
  };
  if (info.frames > max_frames) return too_long();

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
    if (static_cast<int64_t>(out.samples.size()) > max_frames) return too_long();
  }
  if (out.samples.empty()) {
    return core::invalid_argument(what + " contains no audio samples");
  }
  return out;
}

// libsndfile's virtual I/O over a byte range in memory.
struct MemoryFile {
  std::string_view bytes;
  sf_count_t pos = 0;
};
sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  const auto size = static_cast<sf_count_t>(m->bytes.size());
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset : size + offset;
  m->pos = std::clamp<sf_count_t>(to, 0, size);
  return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  const auto size = static_cast<sf_count_t>(m->bytes.size());
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - m->pos));
  if (n > 0) std::memcpy(ptr, m->bytes.data() + m->pos, static_cast<size_t>(n));
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

// A file written into a growing string.
struct OutputFile {
  std::string bytes;
  sf_count_t pos = 0;
};
sf_count_t out_length(void* user) { return static_cast<sf_count_t>(static_cast<OutputFile*>(user)->bytes.size()); }
sf_count_t out_seek(sf_count_t offset, int whence, void* user) {
  auto* o = static_cast<OutputFile*>(user);
  const auto size = static_cast<sf_count_t>(o->bytes.size());
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? o->pos + offset : size + offset;
  o->pos = std::max<sf_count_t>(0, to);
  return o->pos;
}
sf_count_t out_read(void* ptr, sf_count_t count, void* user) {
  auto* o = static_cast<OutputFile*>(user);
  const auto size = static_cast<sf_count_t>(o->bytes.size());
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - o->pos));
  if (n > 0) std::memcpy(ptr, o->bytes.data() + o->pos, static_cast<size_t>(n));
  o->pos += n;
  return n;
}
sf_count_t out_write(const void* ptr, sf_count_t count, void* user) {
  auto* o = static_cast<OutputFile*>(user);
  const auto end = static_cast<size_t>(o->pos + count);
  if (o->bytes.size() < end) o->bytes.resize(end);
  std::memcpy(o->bytes.data() + o->pos, ptr, static_cast<size_t>(count));
  o->pos += count;
  return count;
}
sf_count_t out_tell(void* user) { return static_cast<OutputFile*>(user)->pos; }

}  // namespace

core::Result<MonoPcm> read_audio_file(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      return core::not_found("cannot open '" + path + "': " + std::strerror(errno));
    }
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  return read_all(f, info, "'" + path + "'");
}

core::Result<MonoPcm> decode_audio(std::string_view bytes, const std::string& what, int max_seconds) {
  if (bytes.empty()) return core::invalid_argument(what + " is empty");
  MemoryFile mem{bytes, 0};
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO info{};
  SNDFILE* f = sf_open_virtual(&io, SFM_READ, &info, &mem);
  return read_all(f, info, what, std::min<int64_t>(max_seconds, kMaxInputSeconds));
}

core::Result<std::string> encode_audio(const MonoPcm& pcm, std::string_view format) {
  int sf_format = 0;
  if (format == "wav") {
    sf_format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  } else if (format == "flac") {
    sf_format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  } else if (format == "mp3") {
    sf_format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  } else {
    return core::invalid_argument("cannot encode audio as '" + std::string(format.substr(0, 16)) +
                                  "'; choose wav, flac or mp3");
  }
  SF_INFO info{};
  info.samplerate = pcm.sample_rate_hz;
  info.channels = 1;
  info.format = sf_format;
  if (sf_format_check(&info) == 0) {
    return core::unavailable("this system's libsndfile cannot write " + std::string(format) + " at " +
                             std::to_string(pcm.sample_rate_hz) + " Hz");
  }
  OutputFile out;
  SF_VIRTUAL_IO io{out_length, out_seek, out_read, out_write, out_tell};
  SndfilePtr file(sf_open_virtual(&io, SFM_WRITE, &info, &out));
  if (!file) return core::unavailable(std::string("cannot start a ") + std::string(format) + " file: " + sf_strerror(nullptr));
  const auto n = static_cast<sf_count_t>(pcm.samples.size());
  if (n > 0 && sf_writef_float(file.get(), pcm.samples.data(), n) != n) {
    return core::unavailable(std::string("encoding ") + std::string(format) + " failed: " + sf_strerror(file.get()));
  }
  file.reset();  // finishes the file (headers, last frames)
  return std::move(out.bytes);
}

std::string encode_wav16(const MonoPcm& pcm) {
  const auto samples = to_pcm16(pcm.samples);
  const auto data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto u16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  };
  const auto rate = static_cast<uint32_t>(pcm.sample_rate_hz);
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  out += "data";
  u32(data_bytes);
  for (int16_t s : samples) u16(static_cast<uint16_t>(s));
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
