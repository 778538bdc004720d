// SPDX-License-Identifier: GPL-3.0-or-later
#include "audio/resampler.h"

#include <soxr.h>

#include <string>

namespace parley::audio {

core::Result<MonoPcm> resample(const MonoPcm& in, int out_rate_hz) {
  auto r = StreamResampler::create(in.sample_rate_hz, out_rate_hz);
  if (!r) return r.status();
  MonoPcm out;
  out.sample_rate_hz = out_rate_hz;
  out.samples.reserve(static_cast<size_t>(
      static_cast<double>(in.samples.size()) * out_rate_hz / in.sample_rate_hz + 64));
  (*r)->process(in.samples, out.samples);
  (*r)->flush(out.samples);
  return out;
}

core::Result<std::unique_ptr<StreamResampler>> StreamResampler::create(int in_rate_hz,
                                                                       int out_rate_hz) {
  if (in_rate_hz <= 0 || out_rate_hz <= 0) {
    return core::invalid_argument("sample rates must be positive, got " +
                                  std::to_string(in_rate_hz) + " → " + std::to_string(out_rate_hz));
  }
  soxr_error_t err = nullptr;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_t s = soxr_create(in_rate_hz, out_rate_hz, 1, &err, &io, &q, nullptr);
  if (err != nullptr || s == nullptr) {
    return core::internal_error(std::string("soxr_create failed: ") + (err ? err : "unknown"));
  }
  return std::unique_ptr<StreamResampler>(new StreamResampler(s, in_rate_hz, out_rate_hz));
}

StreamResampler::StreamResampler(void* soxr, int in_rate_hz, int out_rate_hz)
    : soxr_(soxr), in_rate_hz_(in_rate_hz), out_rate_hz_(out_rate_hz) {}

StreamResampler::~StreamResampler() { soxr_delete(static_cast<soxr_t>(soxr_)); }

void StreamResampler::process(std::span<const float> in, std::vector<float>& out) {
  if (in.empty()) return;
  const double ratio = static_cast<double>(out_rate_hz_) / in_rate_hz_;
  size_t cap = static_cast<size_t>(static_cast<double>(in.size()) * ratio) + 256;
  size_t base = out.size();
  out.resize(base + cap);
  size_t idone = 0, odone = 0;
  soxr_process(static_cast<soxr_t>(soxr_), in.data(), in.size(), &idone, out.data() + base, cap,
               &odone);
  out.resize(base + odone);
}

void StreamResampler::flush(std::vector<float>& out) {
  for (;;) {
    size_t base = out.size();
    out.resize(base + 1024);
    size_t odone = 0;
    soxr_process(static_cast<soxr_t>(soxr_), nullptr, 0, nullptr, out.data() + base, 1024, &odone);
    out.resize(base + odone);
    if (odone == 0) break;
  }
}

}  // namespace parley::audio
