// SPDX-License-Identifier: GPL-3.0-or-later
// Per-stage speed on the LibriVox recordings of pocketsphinx-testdata:
// real-time factor of VAD, STT and TTS, MT milliseconds per sentence after
// warm-up (cache off), and the whole pipeline's real-time factor.
// Usage: parley_stage_bench [--rounds N]
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "app/engine_set.h"
#include "app/report.h"
#include "audio/wav_io.h"
#include "avatar/viseme.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "pipeline/pipeline.h"
#include "pipeline/stability.h"
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

  // The avatar's viseme timeline: built once per utterance and language,
  // whatever the number of listeners.
  {
    auto voice = *engines->tts->open_stream("es");
    std::vector<double> ms;
    for (int round = 0; round < rounds; ++round) {
      for (const auto& text : {"Buenos días a todos.", "La reunión empieza a las tres de la tarde en la sala grande.",
                               "Gracias por venir."}) {
        auto speech = engines::tts::synthesize_all(*voice, text);
        const int64_t t0 = core::now_us();
        auto t = avatar::build_timeline(speech->phonemes, speech->audio.samples, speech->audio.sample_rate_hz);
        ms.push_back(static_cast<double>(core::now_us() - t0) / 1000);
        if (t.entries.empty()) return 1;
      }
    }
    row("viseme timeline per utterance", "ms", ms);
  }

  // Partial-caption stability: words retracted without stabilisation and
  // with LocalAgreement-n, and the latency cost: when each final word went on
  // screen for good (stayed in every later partial, in order), relative to the
  // end of its utterance.
  for (size_t n : {size_t{0}, size_t{2}, size_t{3}, size_t{4}}) {
    struct Recorder final : pipeline::PipelineListener {
      const int64_t* pos_ms = nullptr;
      std::vector<std::pair<int64_t, std::vector<std::string>>> partials;
      pipeline::RetractionCount count;
      std::vector<double> appear_ms;
      static std::string norm(const std::string& x) {
        std::string o;
        for (char c : x) {
          if (!std::ispunct(static_cast<unsigned char>(c))) o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return o;
      }
      // Which words of `fin` an in-order alignment with `shown` keeps.
      static std::vector<bool> kept(const std::vector<std::string>& shown, const std::vector<std::string>& fin) {
        std::vector<std::vector<size_t>> l(shown.size() + 1, std::vector<size_t>(fin.size() + 1, 0));
        for (size_t i = 1; i <= shown.size(); ++i) {
          for (size_t j = 1; j <= fin.size(); ++j) {
            l[i][j] = norm(shown[i - 1]) == norm(fin[j - 1]) ? l[i - 1][j - 1] + 1 : std::max(l[i - 1][j], l[i][j - 1]);
          }
        }
        std::vector<bool> out(fin.size(), false);
        for (size_t i = shown.size(), j = fin.size(); i > 0 && j > 0;) {
          if (norm(shown[i - 1]) == norm(fin[j - 1])) {
            out[j - 1] = true;
            --i;
            --j;
          } else if (l[i - 1][j] >= l[i][j - 1]) {
            --i;
          } else {
            --j;
          }
        }
        return out;
      }
      void on_partial(uint64_t, uint32_t, const std::string& text) override {
        partials.push_back({*pos_ms, pipeline::split_words(text)});
      }
      void on_final(const pipeline::Utterance& u) override {
        count += u.partials_shown;
        const auto words = pipeline::split_words(u.words);
        std::vector<int64_t> at(words.size(), u.end_ms);  // shown only by the final
        std::vector<bool> still(words.size(), true);
        for (size_t k = partials.size(); k-- > 0;) {
          const auto keep = kept(partials[k].second, words);
          for (size_t i = 0; i < words.size(); ++i) {
            still[i] = still[i] && keep[i];
            if (still[i]) at[i] = partials[k].first;
          }
        }
        for (auto a : at) appear_ms.push_back(static_cast<double>(a - u.end_ms));
        partials.clear();
      }
    } rec;
    int64_t pos_ms = 0;
    rec.pos_ms = &pos_ms;
    pipeline::PipelineConfig spc;
    spc.synthesize = false;
    spc.stabilize_partials = n != 0;
    spc.agreement_n = n;
    auto sp = *pipeline::SpeakerPipeline::create(*engines, spc, rec);
    int64_t stream_samples = 0;
    for (int round = 0; round < rounds; ++round) {
      for (const auto& a : audio) {
        for (size_t off = 0; off < a.samples.size(); off += 320) {
          const size_t len = std::min<size_t>(320, a.samples.size() - off);
          stream_samples += static_cast<int64_t>(len);
          pos_ms = stream_samples / 16;
          (void)sp->push_audio(std::span(a.samples).subspan(off, len));
        }
        sp->finish();
      }
    }
    const std::string name = n == 0 ? "partials, raw hypotheses" : "partials, LocalAgreement-" + std::to_string(n);
    std::printf("%s retracted %llu of %llu words shown (%.1f %%)\n", core::pad_to_width(name, 34).c_str(),
                static_cast<unsigned long long>(rec.count.retracted), static_cast<unsigned long long>(rec.count.shown),
                100.0 * rec.count.rate());
    row(name + ", on screen for good", "ms", rec.appear_ms);
  }
  return 0;
}
