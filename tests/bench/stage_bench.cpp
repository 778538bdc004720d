// SPDX-License-Identifier: GPL-3.0-or-later
// Per-stage speed on the LibriVox recordings of pocketsphinx-testdata:
// real-time factor of VAD, STT and TTS, MT milliseconds per sentence after
// warm-up (cache off), and the whole pipeline's real-time factor.
// Usage: parley_stage_bench [--rounds N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "app/engine_set.h"
#include "core/utf8.h"
#include "app/report.h"
#include "audio/wav_io.h"
#include "core/clock.h"
#include "pipeline/pipeline.h"
#include "pipeline/text.h"
#include "support/librivox.h"

namespace {

using namespace parley;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}


void row(const std::string& stage, const char* unit, const std::vector<double>& v) {
  std::printf("%s %-8s n=%-4zu median %9.4f  p95 %9.4f  max %9.4f\n", core::pad_to_width(stage, 34).c_str(), unit,
              v.size(), percentile(v, 0.5), percentile(v, 0.95), percentile(v, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  auto recs = testing::librivox_recordings();
  if (recs.empty()) {
    std::fprintf(stderr, "needs pocketsphinx-testdata (scripts/install-deps.sh)\n");
    return 1;
  }
  auto engines = app::load_engines({});
  if (!engines) {
    std::fprintf(stderr, "%s\n", engines.status().message().c_str());
    return 1;
  }
  std::vector<audio::MonoPcm> audio;
  double total_audio_s = 0;
  for (const auto& r : recs) {
    audio.push_back(*audio::read_audio_file_16k(r.wav_path));
    total_audio_s += audio.back().duration_s();
  }
  std::printf("parley stage benchmark: %zu LibriVox recordings, %.1f s of speech, %d rounds\n\n",
              recs.size(), total_audio_s, rounds);

  // VAD: every 10 ms frame of every recording.
  std::vector<double> vad_rtf;
  {
    auto s = *engines->vad->open_stream();
    for (int round = 0; round < rounds; ++round) {
      for (const auto& a : audio) {
        int64_t t0 = core::now_us();
        for (size_t off = 0; off + 160 <= a.samples.size(); off += 160) {
          (void)s->is_speech(std::span(a.samples).subspan(off, 160));
        }
        vad_rtf.push_back(static_cast<double>(core::now_us() - t0) / 1e6 / a.duration_s());
      }
    }
  }
  row("VAD webrtc", "RTF", vad_rtf);

  // STT: one warm decoder, each recording as one utterance fed in 100 ms blocks.
  std::vector<double> stt_rtf;
  {
    auto s = *engines->stt->open_stream("en");
    for (int round = 0; round < rounds + 1; ++round) {
      for (const auto& a : audio) {
        int64_t t0 = core::now_us();
        (void)s->begin_utterance();
        for (size_t off = 0; off < a.samples.size(); off += 1600) {
          (void)s->accept(std::span(a.samples).subspan(off, std::min<size_t>(1600, a.samples.size() - off)));
        }
        (void)s->end_utterance();
        if (round > 0) stt_rtf.push_back(static_cast<double>(core::now_us() - t0) / 1e6 / a.duration_s());
      }
    }
  }
  row("STT pocketsphinx (warm)", "RTF", stt_rtf);

  // MT: the reference sentences, no cache, after one warm-up call per direction.
  std::vector<std::string> sentences;
  for (const auto& r : recs) sentences.push_back(pipeline::to_sentence(r.reference, "en"));
  for (const char* extra : {"The meeting will start in ten minutes.",
                            "Please turn off your phones during the service.",
                            "Where is the nearest hospital?",
                            "Thank you all for coming tonight."}) {
    sentences.emplace_back(extra);
  }
  std::map<std::string, std::vector<double>> mt_ms;
  for (const char* to : {"es", "ca", "fr", "pt", "it"}) {
    auto tr = engines::mt::Translator::open(*engines->router, "en", to, nullptr, nullptr);
    if (!tr) continue;
    (void)(*tr)->translate("Warm up.");
    for (int round = 0; round < rounds; ++round) {
      for (const auto& s : sentences) {
        int64_t t0 = core::now_us();
        (void)(*tr)->translate(s);
        mt_ms[(*tr)->route().describe()].push_back(static_cast<double>(core::now_us() - t0) / 1000);
      }
    }
  }
  std::vector<double> all_mt;
  for (const auto& [route, v] : mt_ms) {
    row("MT apertium " + route, "ms/sent", v);
    all_mt.insert(all_mt.end(), v.begin(), v.end());
  }
  row("MT apertium, all routes", "ms/sent", all_mt);

  // TTS: real-time factor and time to the first audio chunk.
  std::vector<double> tts_rtf, tts_first_ms;
  for (const char* lang : {"es", "fr", "pt"}) {
    auto voice = *engines->tts->open_stream(lang);
    for (int round = 0; round < rounds; ++round) {
      for (const auto& s : sentences) {
        int64_t t0 = core::now_us(), first = 0;
        size_t n = 0;
        (void)voice->synthesize(s, [&](const engines::tts::SpeechChunk& c) {
          if (first == 0 && !c.audio.empty()) first = core::now_us();
          n += c.audio.size();
        });
        double secs = static_cast<double>(n) / voice->sample_rate_hz();
        tts_rtf.push_back(static_cast<double>(core::now_us() - t0) / 1e6 / secs);
        tts_first_ms.push_back(static_cast<double>(first - t0) / 1000);
      }
    }
  }
  row("TTS espeak-ng", "RTF", tts_rtf);
  row("TTS espeak-ng first audio", "ms", tts_first_ms);

  // The whole pipeline, as `parley translate` runs it: en → es, fr, pt.
  struct Null final : pipeline::PipelineListener {} sink;
  pipeline::PipelineConfig pc;
  pc.targets = {"es", "fr", "pt"};
  auto pipe = *pipeline::SpeakerPipeline::create(*engines, pc, sink);
  std::vector<double> whole_rtf;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& a : audio) {
      int64_t t0 = core::now_us();
      for (size_t off = 0; off < a.samples.size(); off += 1600) {
        (void)pipe->push_audio(std::span(a.samples).subspan(off, std::min<size_t>(1600, a.samples.size() - off)));
      }
      pipe->finish();
      whole_rtf.push_back(static_cast<double>(core::now_us() - t0) / 1e6 / a.duration_s());
    }
  }
  row("whole pipeline en→es,fr,pt", "RTF", whole_rtf);
  return 0;
}
