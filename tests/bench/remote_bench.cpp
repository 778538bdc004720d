// SPDX-License-Identifier: GPL-3.0-or-later
// What the remote path adds per stage: the same work done by the embedded
// engines and by an engine node over the network adapters (openai-stt,
// libretranslate, openai-tts), on the LibriVox recordings of
// pocketsphinx-testdata. Per stage, the latency a listener waits for:
//   stt   end of the utterance's audio → final hypothesis
//   mt    one sentence, cache off
//   tts   text → first audio
// Start the node first (tests/bench/remote_bench.sh does it all).
// Usage: parley_remote_bench --node http://127.0.0.1:PORT [--rounds N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "app/engine_set.h"
#include "audio/wav_io.h"
#include "core/clock.h"
#include "engines/mt/translator.h"
#include "support/librivox.h"

namespace {

using namespace parley;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Samples {
  std::vector<double> stt, mt, tts;
};

// One pass over the recordings with one engine set; milliseconds.
bool measure(const pipeline::Engines& e, const std::vector<testing::Recording>& recs,
             const std::vector<audio::MonoPcm>& audio, int rounds, Samples& out) {
  auto stt = e.stt->open_stream("en");
  if (!stt) return std::fprintf(stderr, "stt: %s\n", stt.status().message().c_str()), false;
  std::map<std::string, std::unique_ptr<engines::mt::Translator>> tr;
  std::map<std::string, std::unique_ptr<engines::tts::Stream>> voice;
  for (const char* lang : {"es", "fr"}) {
    auto t = engines::mt::Translator::open(*e.router, "en", lang, nullptr, nullptr);
    auto v = e.tts->open_stream(lang);
    if (!t || !v) return std::fprintf(stderr, "%s: no route or voice\n", lang), false;
    tr[lang] = std::move(*t);
    voice[lang] = std::move(*v);
  }
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < recs.size(); ++i) {
      (void)(*stt)->begin_utterance();
      (void)(*stt)->accept(audio[i].samples);
      const int64_t t0 = core::now_us();
      auto h = (*stt)->end_utterance();
      out.stt.push_back(core::elapsed_ms(t0, core::now_us()));
      if (!h) std::fprintf(stderr, "stt: %s\n", h.status().message().c_str());
      for (const char* lang : {"es", "fr"}) {
        const int64_t m0 = core::now_us();
        auto t = tr[lang]->translate(recs[i].reference);
        out.mt.push_back(core::elapsed_ms(m0, core::now_us()));
        if (!t) {
          std::fprintf(stderr, "mt: %s\n", t.status().message().c_str());
          continue;
        }
        const int64_t s0 = core::now_us();
        double first = -1;
        auto st = voice[lang]->synthesize(t->text, [&](const engines::tts::SpeechChunk& c) {
          if (first < 0 && !c.audio.empty()) first = core::elapsed_ms(s0, core::now_us());
        });
        if (st && first >= 0) out.tts.push_back(first);
      }
    }
    std::fprintf(stderr, "  round %d/%d done\n", round + 1, rounds);
  }
  return true;
}

void row(const char* stage, const std::vector<double>& local, const std::vector<double>& remote) {
  std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %+.1f | %+.1f |\n", stage, remote.size(), percentile(local, 0.5),
              percentile(local, 0.95), percentile(remote, 0.5), percentile(remote, 0.95),
              percentile(remote, 0.5) - percentile(local, 0.5), percentile(remote, 0.95) - percentile(local, 0.95));
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  std::string node;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--node") == 0) node = argv[i + 1];
  }
  if (node.empty()) {
    std::fprintf(stderr, "usage: parley_remote_bench --node http://127.0.0.1:PORT [--rounds N]\n");
    return 2;
  }
  auto recs = testing::librivox_recordings();
  if (recs.empty()) return std::fprintf(stderr, "needs pocketsphinx-testdata\n"), 1;
  std::vector<audio::MonoPcm> audio;
  for (const auto& r : recs) audio.push_back(*audio::read_audio_file_16k(r.wav_path));

  app::EngineOptions embedded;
  app::EngineOptions remote;
  remote.stt = "openai-stt(url=" + node + "/v1, languages=en, partial-interval-ms=0)";
  remote.mt = "libretranslate(url=" + node + ")";
  remote.tts = "openai-tts(url=" + node + "/v1, languages=es+fr)";
  Samples local_ms, remote_ms;
  for (auto [options, out, name] : {std::tuple{&embedded, &local_ms, "embedded"}, std::tuple{&remote, &remote_ms, "remote"}}) {
    std::fprintf(stderr, "%s engines…\n", name);
    auto e = app::load_engines(*options);
    if (!e) return std::fprintf(stderr, "%s\n", e.status().message().c_str()), 1;
    if (!measure(*e, recs, audio, rounds, *out)) return 1;
  }
  std::printf("| stage | n | embedded median ms | embedded p95 | remote median | remote p95 | added median | added p95 |\n"
              "|---|---|---|---|---|---|---|---|\n");
  row("stt: end of audio → final", local_ms.stt, remote_ms.stt);
  row("mt: one sentence (cache off)", local_ms.mt, remote_ms.mt);
  row("tts: text → first audio", local_ms.tts, remote_ms.tts);
  return 0;
}
