// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/alignment.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace parley::engines::tts {

std::pair<int64_t, int64_t> voiced_span(const audio::MonoPcm& pcm) {
  const auto n = static_cast<int64_t>(pcm.samples.size());
  const int64_t frame = std::max<int64_t>(1, pcm.sample_rate_hz / 100);
  std::vector<double> rms;
  for (int64_t at = 0; at < n; at += frame) {
    double sum = 0;
    const int64_t end = std::min(n, at + frame);
    for (int64_t i = at; i < end; ++i) sum += static_cast<double>(pcm.samples[static_cast<size_t>(i)]) * pcm.samples[static_cast<size_t>(i)];
    rms.push_back(std::sqrt(sum / static_cast<double>(end - at)));
  }
  if (rms.empty()) return {0, 0};
  const double loudest = *std::max_element(rms.begin(), rms.end());
  if (loudest < 1e-4) return {0, n};
  const double threshold = loudest / 10;
  size_t first = 0;
  while (first < rms.size() && rms[first] < threshold) ++first;
  size_t last = rms.size() - 1;
  while (last > first && rms[last] < threshold) --last;
  return {static_cast<int64_t>(first) * frame, std::min(n, static_cast<int64_t>(last + 1) * frame)};
}

Speech fit_timings(const Speech& template_speech, audio::MonoPcm audio) {
  Speech out;
  const auto [t0, t1] = voiced_span(template_speech.audio);
  const auto [a0, a1] = voiced_span(audio);
  const double t_rate = template_speech.audio.sample_rate_hz;
  const double a_rate = audio.sample_rate_hz;
  const double t_span = std::max<double>(1, static_cast<double>(t1 - t0)) / t_rate;  // seconds
  const double a_span = static_cast<double>(a1 - a0) / a_rate;
  const auto n = static_cast<int64_t>(audio.samples.size());
  auto map = [&](int64_t t_sample) {
    const double rel = (static_cast<double>(t_sample - t0) / t_rate) / t_span;  // 0 at voice start, 1 at its end
    const double at = static_cast<double>(a0) / a_rate + rel * a_span;
    return std::clamp<int64_t>(static_cast<int64_t>(std::llround(at * a_rate)), 0, n);
  };
  for (const auto& p : template_speech.phonemes) out.phonemes.push_back({p.symbol, map(p.sample)});
  for (const auto& w : template_speech.words) out.words.push_back({w.text_offset, w.text_length, map(w.sample)});
  out.audio = std::move(audio);
  return out;
}

}  // namespace parley::engines::tts
