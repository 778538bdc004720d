// SPDX-License-Identifier: GPL-3.0-or-later
// Endpointing benchmark: how soon after the true end of a sentence its final
// caption and first translated audio are ready, how often an utterance is cut
// in mid-sentence, and whether noise keeps utterances from ending — for the
// fixed hangover and the adaptive endpointer, on the same recordings, in one
// run.
//
// Each source (one speaker) becomes a talk: its recordings, levelled to the
// same speech level, one after another with pauses drawn from --pause-ms.
// Where a sentence truly ends is measured on the clean recording (the last
// 10 ms frame within 35 dB of the recording's loudest). Real noise
// recordings (--noise NAME=FILE, looped) are mixed in at each --snr, the SNR
// taken over the speech. The talk goes through the real pipeline (the
// configured VAD, recogniser, translator and voice) as fast as the machine
// allows; per sentence:
//
//   final latency  = (where the utterance was closed − true end), in audio
//                    time, + the recogniser's work after the close (wall);
//   first audio    = the same + translation and first synthesised chunk.
//
// A split is an utterance closed inside a sentence (more than 250 ms before
// its true end) and followed within 1 s by the next, which holds the rest of
// the sentence; a merge is a sentence
// whose end no utterance closed (the next one ran into it). The work after
// the close is measured on an otherwise idle core: under load, add queueing.
//
// Usage: parley_endpoint_bench --list FILE [--noise NAME=FILE]... [--snr 10,0]
//          [--policies fixed,adaptive] [--pause-ms 600-1500] [--seed N]
//          [--targets es] [--hangover-ms N (default: each policy's own)] [--min-hangover-ms 150]
//          [--write-wavs DIR] [--verbose]
// FILE has one recording a line: source<TAB>path<TAB>reference words
// (tools/eval/endpointing.py writes it from Debian's speech packages).
//
// --continuous MINUTES: the pace benchmark instead. The recordings, in turn
// and again until the talk lasts MINUTES, with pauses of 100-280 ms (a
// speaker who hardly stops), translated and spoken into --targets (default
// es,fr) with the pace controller off and then on. Per language: when the
// listener starts hearing each translation and when it has heard it, after
// the end of its source speech (pipeline/pace.h's listener model), the speech
// rates used, utterances trimmed and skipped, and the wait minute by minute.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "app/engine_set.h"
#include "audio/wav_io.h"
#include "core/clock.h"
#include "pipeline/pipeline.h"
#include "transcript/wer.h"

namespace {

using namespace parley;

constexpr int kRate = audio::kPipelineRateHz;
constexpr int kFrame = audio::kFrameSamples;
constexpr double kSpeechLevelDb = -26.0;
// A sentence's last 250 ms may be a faint tail that noise covers: closing
// within it is neither a split nor a miss.
constexpr int64_t kQuietTailMs = 250;

struct Sentence {
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // the true end of speech
  std::string reference;
};

struct Talk {
  std::string source;
  std::vector<float> samples;
  std::vector<Sentence> sentences;
  double speech_power = 0;  // mean power over the sentences' loud frames
};

struct Closed {
  int64_t start_ms = 0, end_ms = 0;
  std::string text, reason;
  double work_ms = 0;         // close → final
  double first_audio_ms = -1; // close → first translated chunk
};

double frame_db(const float* x) {
  double p = 0;
  for (int i = 0; i < kFrame; ++i) p += static_cast<double>(x[i]) * x[i];
  p /= kFrame;
  return p > 1e-12 ? 10 * std::log10(p) : -120;
}

// Appends one recording to the talk, levelled, with `pause_ms` of silence after it.
bool append_recording(Talk& talk, const std::string& path, const std::string& reference, int pause_ms) {
  auto pcm = audio::read_audio_file_16k(path);
  if (!pcm) {
    std::fprintf(stderr, "skip %s: %s\n", path.c_str(), pcm.status().message().c_str());
    return false;
  }
  auto& x = pcm->samples;
  const size_t n_frames = x.size() / kFrame;
  if (n_frames < 10) return false;
  std::vector<double> db(n_frames);
  double loudest = -120;
  for (size_t f = 0; f < n_frames; ++f) loudest = std::max(loudest, db[f] = frame_db(&x[f * kFrame]));
  const double loud = loudest - 35;
  size_t first = n_frames, last = 0;
  double power = 0;
  size_t n_loud = 0;
  for (size_t f = 0; f < n_frames; ++f) {
    if (db[f] < loud) continue;
    first = std::min(first, f);
    last = f;
    power += std::pow(10.0, db[f] / 10);
    ++n_loud;
  }
  if (n_loud == 0) return false;
  const double gain = std::pow(10.0, (kSpeechLevelDb - 10 * std::log10(power / n_loud)) / 20);
  // Keep 100 ms either side of the loud part: onsets and tails as recorded.
  const size_t from = (first >= 10 ? first - 10 : 0) * kFrame;
  const size_t to = std::min(x.size(), (last + 11) * kFrame);
  Sentence s;
  s.start_ms = static_cast<int64_t>((talk.samples.size() + first * kFrame - from) / 16);
  s.end_ms = static_cast<int64_t>((talk.samples.size() + (last + 1) * kFrame - from) / 16);
  s.reference = reference;
  for (size_t i = from; i < to; ++i) talk.samples.push_back(static_cast<float>(std::clamp(x[i] * gain, -1.0, 1.0)));
  talk.samples.insert(talk.samples.end(), static_cast<size_t>(pause_ms) * 16, 0.0F);
  talk.sentences.push_back(std::move(s));
  talk.speech_power += std::pow(10.0, kSpeechLevelDb / 10) * static_cast<double>(n_loud);
  return true;
}

std::vector<float> mix(const Talk& talk, const std::vector<float>& noise, double snr_db) {
  std::vector<float> out = talk.samples;
  if (noise.empty()) return out;
  double np = 0;
  for (float v : noise) np += static_cast<double>(v) * v;
  np /= static_cast<double>(noise.size());
  const double gain = std::sqrt(std::pow(10.0, kSpeechLevelDb / 10) / std::pow(10.0, snr_db / 10) / np);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(std::clamp(out[i] + noise[i % noise.size()] * gain, -1.0, 1.0));
  }
  return out;
}

class Collector final : public pipeline::PipelineListener {
 public:
  std::vector<Closed> closed;
  std::map<uint64_t, size_t> index;
  void on_final(const pipeline::Utterance& u) override {
    Closed c;
    c.start_ms = u.start_ms;
    c.end_ms = u.end_ms;
    c.text = u.words;
    c.reason = u.end_reason;
    c.work_ms = static_cast<double>(u.times.stt_final_us - u.times.vad_end_us) / 1000.0;
    vad_end_us_ = u.times.vad_end_us;
    index[u.id] = closed.size();
    closed.push_back(std::move(c));
  }
  void on_speech_chunk(const pipeline::Utterance& u, const std::string&, const engines::tts::SpeechChunk&,
                       int64_t first_sample) override {
    auto it = index.find(u.id);
    if (it == index.end() || first_sample != 0 || closed[it->second].first_audio_ms >= 0) return;
    closed[it->second].first_audio_ms = static_cast<double>(core::now_us() - vad_end_us_) / 1000.0;
  }

 private:
  int64_t vad_end_us_ = 0;
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - (p > 0 ? 1 : 0))];
}

struct Score {
  std::vector<double> final_ms, audio_ms;
  std::vector<double> known_final_ms;  // sentences after the speaker's first 4 s of speech
  int sentences = 0, utterances = 0, splits = 0, merges = 0, forced = 0, missed = 0, noise_only = 0;
  transcript::WerCounts wer;
  std::map<std::string, int> reasons;
  Score& operator+=(const Score& o) {
    final_ms.insert(final_ms.end(), o.final_ms.begin(), o.final_ms.end());
    audio_ms.insert(audio_ms.end(), o.audio_ms.begin(), o.audio_ms.end());
    known_final_ms.insert(known_final_ms.end(), o.known_final_ms.begin(), o.known_final_ms.end());
    sentences += o.sentences;
    utterances += o.utterances;
    splits += o.splits;
    merges += o.merges;
    forced += o.forced;
    missed += o.missed;
    noise_only += o.noise_only;
    wer += o.wer;
    for (const auto& [k, v] : o.reasons) reasons[k] += v;
    return *this;
  }
};

bool g_verbose = false;

Score score(const Talk& talk, const std::vector<Closed>& closed) {
  Score s;
  if (g_verbose) {
    for (const auto& t : talk.sentences) std::printf("  true %7lld–%7lld %s\n", static_cast<long long>(t.start_ms), static_cast<long long>(t.end_ms), t.reference.c_str());
    for (const auto& c : closed) std::printf("  utt  %7lld–%7lld %-10s %s\n", static_cast<long long>(c.start_ms), static_cast<long long>(c.end_ms), c.reason.c_str(), c.text.c_str());
  }
  s.sentences = static_cast<int>(talk.sentences.size());
  std::string reference, hypothesis;
  for (const auto& t : talk.sentences) reference += t.reference + " ";
  for (size_t i = 0; i < closed.size(); ++i) {
    const auto& c = closed[i];
    hypothesis += c.text + " ";
    ++s.reasons[c.reason];
    if (c.reason == "end") continue;
    ++s.utterances;
    if (c.reason == "max_length") ++s.forced;
    if (c.text.empty()) ++s.noise_only;
    // Closed well inside a sentence, and the next utterance carries on with
    // it within a second.
    const bool continued = i + 1 < closed.size() && closed[i + 1].start_ms - c.end_ms < 1000;
    for (const auto& t : talk.sentences) {
      if (c.end_ms > t.start_ms && c.end_ms < t.end_ms - kQuietTailMs && continued &&
          closed[i + 1].start_ms < t.end_ms) {
        ++s.splits;
        if (g_verbose) std::printf("  split (%s) \"%s\" | \"%s\" of \"%s\"\n", c.reason.c_str(), c.text.c_str(), closed[i + 1].text.c_str(), t.reference.c_str());
        break;
      }
    }
  }
  int64_t speech_before_ms = 0;  // the talk's speech before sentence k
  for (size_t k = 0; k < talk.sentences.size(); ++k) {
    const auto& t = talk.sentences[k];
    // pocketsphinx decodes a new speaker's first 4 s twice (the second pass
    // with their own cepstral means): sentences past that show the steady
    // state.
    const bool known_speaker = speech_before_ms >= 4000;
    speech_before_ms += t.end_ms - t.start_ms;
    const Closed* by = nullptr;
    // The utterance holding the sentence's last words: one may close a
    // little before the true end when the tail is lost in the noise.
    for (const auto& c : closed) {
      if (c.start_ms < t.end_ms && c.end_ms >= t.end_ms - kQuietTailMs) {
        by = &c;
        break;
      }
    }
    if (by == nullptr) {
      ++s.missed;
      continue;
    }
    if (k + 1 < talk.sentences.size() && by->end_ms > talk.sentences[k + 1].start_ms) ++s.merges;
    const double decided = static_cast<double>(by->end_ms - t.end_ms);
    if (g_verbose) std::printf("  sentence %zu: closed %+.0f ms after its end (%s), work %.0f ms\n", k + 1, decided, by->reason.c_str(), by->work_ms);
    s.final_ms.push_back(decided + by->work_ms);
    if (known_speaker) s.known_final_ms.push_back(decided + by->work_ms);
    if (by->first_audio_ms >= 0) s.audio_ms.push_back(decided + by->first_audio_ms);
  }
  s.wer = transcript::word_errors(transcript::normalise_words(reference), transcript::normalise_words(hypothesis));
  return s;
}

struct PaceRow {
  std::map<std::string, std::vector<double>> wait, end_lag, rate;
  std::map<std::string, std::map<int, double>> worst_wait_by_minute;
  std::map<std::string, int> skipped, trimmed, spoken;
};

class PaceCollector final : public pipeline::PipelineListener {
 public:
  explicit PaceCollector(PaceRow& row) : row_(row) {}
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech&) override {
    if (t.pace.wait_ms < 0) return;
    row_.wait[t.language].push_back(static_cast<double>(t.pace.wait_ms));
    row_.end_lag[t.language].push_back(static_cast<double>(t.pace.end_lag_ms));
    row_.rate[t.language].push_back(t.pace.rate);
    ++row_.spoken[t.language];
    if (t.pace.trimmed_ms > 0) ++row_.trimmed[t.language];
    auto& worst = row_.worst_wait_by_minute[t.language][static_cast<int>(u.end_ms / 60000)];
    worst = std::max(worst, static_cast<double>(t.pace.wait_ms));
  }
  void on_speech_skipped(const pipeline::Utterance&, const pipeline::TranslationResult& t) override {
    ++row_.skipped[t.language];
  }

 private:
  PaceRow& row_;
};

void print_row(const std::string& condition, const std::string& policy, const Score& s) {
  auto tri = [](const std::vector<double>& v) {
    char b[64];
    std::snprintf(b, sizeof b, "%4.0f / %4.0f / %5.0f", pct(v, 0.5), pct(v, 0.95), pct(v, 0.99));
    return std::string(b);
  };
  char known[48];
  std::snprintf(known, sizeof known, "%4.0f / %4.0f (%zu)", pct(s.known_final_ms, 0.5), pct(s.known_final_ms, 0.95),
                s.known_final_ms.size());
  std::printf("| %-12s | %-8s | %3d | %s | %s | %s | %5.1f %% (%d) | %d | %d | %d | %5.1f %% |\n", condition.c_str(),
              policy.c_str(), s.sentences, tri(s.final_ms).c_str(), known, tri(s.audio_ms).c_str(),
              s.utterances ? 100.0 * s.splits / s.utterances : 0.0, s.splits, s.merges, s.forced, s.noise_only,
              100.0 * s.wer.wer());
  std::fflush(stdout);
}

// What each --policies name runs: the detector, the endpointing and the noise floor.
struct Policy {
  std::string vad;
  pipeline::EndpointPolicy endpointing;
  bool noise_floor;
  int hangover_ms;  // the default that goes with it; --hangover-ms overrides
};
const std::map<std::string, Policy>& known_policies() {
  static const std::map<std::string, Policy> p = {
      {"fixed", {"webrtc", pipeline::EndpointPolicy::fixed, false, 500}},      // parley before issue 17
      {"adaptive", {"webrtc", pipeline::EndpointPolicy::adaptive, true, 500}},  // --vad webrtc
      {"silero", {"silero", pipeline::EndpointPolicy::adaptive, false, 350}},   // parley serve's default
      {"silero-floor", {"silero", pipeline::EndpointPolicy::adaptive, true, 350}},
      {"silero-fixed", {"silero", pipeline::EndpointPolicy::fixed, false, 500}},
  };
  return p;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string list_path, targets, wav_dir;
  double continuous_min = 0;
  std::vector<std::pair<std::string, std::string>> noises;
  std::vector<double> snrs = {10, 0};
  std::vector<std::string> policies = {"fixed", "adaptive"};
  int pause_lo = 600, pause_hi = 1500, hangover = 0, min_hangover = 150;  // hangover 0: each policy's own
  unsigned seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--list") list_path = value();
    else if (a == "--noise") {
      auto v = value();
      auto eq = v.find('=');
      if (eq == std::string::npos) { std::fprintf(stderr, "--noise NAME=FILE\n"); return 2; }
      noises.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (a == "--snr") {
      snrs.clear();
      for (const auto& x : split(value(), ',')) snrs.push_back(std::atof(x.c_str()));
    } else if (a == "--policies") policies = split(value(), ',');
    else if (a == "--pause-ms") {
      auto v = split(value(), '-');
      pause_lo = std::atoi(v.at(0).c_str());
      pause_hi = v.size() > 1 ? std::atoi(v[1].c_str()) : pause_lo;
    } else if (a == "--seed") seed = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "--targets") targets = value();
    else if (a == "--hangover-ms") hangover = std::atoi(value().c_str());
    else if (a == "--min-hangover-ms") min_hangover = std::atoi(value().c_str());
    else if (a == "--write-wavs") wav_dir = value();
    else if (a == "--verbose") g_verbose = true;
    else if (a == "--continuous") continuous_min = std::atof(value().c_str());
    else {
      std::fprintf(stderr, "usage: see the head of tests/bench/endpoint_bench.cpp (%s?)\n", a.c_str());
      return 2;
    }
  }
  if (list_path.empty()) {
    std::fprintf(stderr, "--list FILE is required (tools/eval/endpointing.py writes it)\n");
    return 2;
  }

  if (targets.empty()) targets = continuous_min > 0 ? "es,fr" : "es";
  if (continuous_min > 0) {
    pause_lo = 100;
    pause_hi = 280;
  }
  // Talks, one per source.
  std::map<std::string, Talk> talks;
  std::vector<std::string> order;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause(pause_lo, std::max(pause_lo, pause_hi));
  std::ifstream in(list_path);
  for (std::string line; std::getline(in, line);) {
    auto f = split(line, '\t');
    if (f.size() < 3) continue;
    if (!talks.count(f[0])) {
      order.push_back(f[0]);
      talks[f[0]].source = f[0];
      talks[f[0]].samples.assign(static_cast<size_t>(kRate), 0.0F);  // a second of room before the first word
    }
    append_recording(talks[f[0]], f[1], f[2], pause(rng));
  }
  size_t n_loud_frames = 0;
  for (auto& [name, t] : talks) {
    n_loud_frames += t.sentences.size();
  }
  if (n_loud_frames == 0) {
    std::fprintf(stderr, "no recordings could be read from %s\n", list_path.c_str());
    return 1;
  }
  if (continuous_min > 0) {
    // One talk: every recording in turn, again and again, until long enough.
    std::vector<std::pair<std::string, std::string>> all;
    std::ifstream again(list_path);
    for (std::string line; std::getline(again, line);) {
      auto f = split(line, '\t');
      if (f.size() >= 3) all.emplace_back(f[1], f[2]);
    }
    Talk talk;
    talk.source = "continuous";
    talk.samples.assign(static_cast<size_t>(kRate), 0.0F);
    const auto want = static_cast<size_t>(continuous_min * 60 * kRate);
    for (size_t i = 0; talk.samples.size() < want && !all.empty(); i = (i + 1) % all.size()) {
      append_recording(talk, all[i].first, all[i].second, pause(rng));
    }
    app::EngineOptions eo;
    auto engines = app::load_engines(eo);
    if (!engines) {
      std::fprintf(stderr, "%s\n", engines.status().message().c_str());
      return 1;
    }
    std::printf("pace benchmark: %.1f minutes of speech, %zu recordings in turn, pauses 100-280 ms, into %s\n\n",
                static_cast<double>(talk.samples.size()) / kRate / 60, talk.sentences.size(), targets.c_str());
    std::map<std::string, PaceRow> rows;
    for (bool pace_on : {false, true}) {
      PaceRow& row = rows[pace_on ? "on" : "off"];
      PaceCollector col(row);
      pipeline::PipelineConfig pc;
      pc.targets = split(targets, ',');
      pc.pace.enabled = pace_on;
      // As parley serve runs by default (known_policies()'s "silero").
      const Policy& live = known_policies().at("silero");
      pc.segmenter.endpointing = live.endpointing;
      pc.segmenter.noise_floor.enabled = live.noise_floor;
      pc.segmenter.hangover_ms = hangover > 0 ? hangover : live.hangover_ms;
      pc.segmenter.min_hangover_ms = min_hangover;
      auto p = pipeline::SpeakerPipeline::create(*engines, pc, col);
      if (!p) {
        std::fprintf(stderr, "%s\n", p.status().message().c_str());
        return 1;
      }
      for (size_t off = 0; off < talk.samples.size(); off += 320) {
        (void)(*p)->push_audio(std::span(talk.samples).subspan(off, std::min<size_t>(320, talk.samples.size() - off)));
      }
      (*p)->finish();
    }
    std::printf("| controller | language | utterances spoken | skipped | trimmed | rate mean / p95 / max | wait p50 / p95 / max (s) | end lag p50 / p95 (s) |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (const auto& [mode, row] : rows) {
      for (const auto& [lang, waits] : row.wait) {
        const auto& rates = row.rate.at(lang);
        double mean = 0;
        for (double r : rates) mean += r;
        mean /= static_cast<double>(std::max<size_t>(1, rates.size()));
        auto get = [](const std::map<std::string, int>& m, const std::string& k) { auto it = m.find(k); return it == m.end() ? 0 : it->second; };
        std::printf("| %s | %s | %d | %d | %d | %.2f / %.2f / %.2f | %.1f / %.1f / %.1f | %.1f / %.1f |\n", mode.c_str(),
                    lang.c_str(), get(row.spoken, lang), get(row.skipped, lang), get(row.trimmed, lang), mean,
                    pct(rates, 0.95), pct(rates, 1.0), pct(waits, 0.5) / 1000, pct(waits, 0.95) / 1000,
                    pct(waits, 1.0) / 1000, pct(row.end_lag.at(lang), 0.5) / 1000,
                    pct(row.end_lag.at(lang), 0.95) / 1000);
      }
    }
    std::printf("\nworst wait in each minute of the talk (s): when a listener starts hearing a translation, after its source ended\n\n| minute |");
    const auto langs = split(targets, ',');
    for (const auto& l : langs) std::printf(" %s off | %s on |", l.c_str(), l.c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < langs.size(); ++i) std::printf("---|---|");
    std::printf("\n");
    for (int minute = 0; minute < static_cast<int>(std::ceil(continuous_min)); ++minute) {
      std::printf("| %d |", minute + 1);
      for (const auto& l : langs) {
        for (const char* mode : {"off", "on"}) {
          const auto& by = rows[mode].worst_wait_by_minute[l];
          auto it = by.find(minute);
          if (it == by.end()) std::printf(" – |"); else std::printf(" %.1f |", it->second / 1000);
        }
      }
      std::printf("\n");
    }
    return 0;
  }
  std::map<std::string, std::vector<float>> noise_pcm;
  for (const auto& [name, path] : noises) {
    auto pcm = audio::read_audio_file_16k(path);
    if (!pcm) {
      std::fprintf(stderr, "noise %s: %s\n", path.c_str(), pcm.status().message().c_str());
      return 1;
    }
    noise_pcm[name] = pcm->samples;
  }

  app::EngineOptions eo;
  auto engines = app::load_engines(eo);
  if (!engines) {
    std::fprintf(stderr, "%s\n", engines.status().message().c_str());
    return 1;
  }
  std::map<std::string, std::shared_ptr<const engines::vad::Model>> vads;
  for (const auto& policy : policies) {
    auto it = known_policies().find(policy);
    if (it == known_policies().end()) {
      std::fprintf(stderr, "unknown policy '%s' (fixed, adaptive, silero, silero-floor, silero-fixed)\n", policy.c_str());
      return 2;
    }
    if (vads.count(it->second.vad) != 0) continue;
    app::EngineOptions only;
    only.vad = it->second.vad;
    only.need_speech_out = false;
    auto e = app::load_engines(only);
    if (!e) {
      std::fprintf(stderr, "%s\n", e.status().message().c_str());
      return 1;
    }
    vads[it->second.vad] = e->vad;
  }

  struct Condition {
    std::string name;
    const std::vector<float>* noise;
    double snr;
  };
  std::vector<Condition> conditions = {{"clean", nullptr, 0}};
  for (const auto& [name, pcm] : noise_pcm) {
    for (double snr : snrs) {
      char b[64];
      std::snprintf(b, sizeof b, "%s %+.0f dB", name.c_str(), snr);
      conditions.push_back({b, &pcm, snr});
    }
  }
  double total_s = 0;
  for (const auto& [n, t] : talks) total_s += static_cast<double>(t.samples.size()) / kRate;
  std::printf("endpointing benchmark: %zu talks (%s), %.0f s each condition, hangover %s, shortest %d ms\n",
              talks.size(), [&] { std::string s; for (auto& o : order) s += (s.empty() ? "" : ", ") + o + " " + std::to_string(talks[o].sentences.size()); return s; }().c_str(),
              total_s, hangover > 0 ? (std::to_string(hangover) + " ms").c_str() : "each policy's own (fixed, adaptive 500 ms; silero 350 ms)", min_hangover);
  std::printf("latencies in ms from the true end of each sentence; split = closed mid-sentence and continued within 1 s\n\n");
  std::printf("| condition | policy | sentences | final p50 / p95 / p99 | final p50 / p95, known speaker (n) | first audio p50 / p95 / p99 | splits | merges | forced cuts | noise-only | WER |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");

  std::map<std::string, Score> overall;
  for (const auto& cond : conditions) {
    for (const auto& policy : policies) {
      Score all;
      for (const auto& name : order) {
        const Talk& talk = talks[name];
        auto audio = cond.noise ? mix(talk, *cond.noise, cond.snr) : talk.samples;
        if (!wav_dir.empty() && policy == policies.front()) {
          std::string file = wav_dir + "/" + name + "-" + split(cond.name, ' ')[0] +
                             (cond.noise ? std::to_string(static_cast<int>(cond.snr)) + "dB" : "") + ".wav";
          (void)audio::write_wav16(file, audio::MonoPcm{audio, kRate});
          std::ofstream ends(file + ".ends");
          for (const auto& s : talk.sentences) ends << s.start_ms << " " << s.end_ms << "\n";
        }
        pipeline::PipelineConfig pc;
        pc.source_language = "en";
        pc.targets = split(targets, ',');
        const Policy& pol = known_policies().at(policy);
        pc.segmenter.hangover_ms = hangover > 0 ? hangover : pol.hangover_ms;
        pc.segmenter.min_hangover_ms = min_hangover;
        pc.segmenter.endpointing = pol.endpointing;
        pc.segmenter.noise_floor.enabled = pol.noise_floor;
        pipeline::Engines with_vad = *engines;
        with_vad.vad = vads.at(pol.vad);
        Collector col;
        auto p = pipeline::SpeakerPipeline::create(with_vad, pc, col);
        if (!p) {
          std::fprintf(stderr, "%s\n", p.status().message().c_str());
          return 1;
        }
        for (size_t off = 0; off < audio.size(); off += 320) {
          (void)(*p)->push_audio(std::span(audio).subspan(off, std::min<size_t>(320, audio.size() - off)));
        }
        (*p)->finish();
        all += score(talk, col.closed);
      }
      print_row(cond.name, policy, all);
      overall[policy] += all;
    }
  }
  for (const auto& policy : policies) print_row("all", policy, overall[policy]);
  for (const auto& policy : policies) {
    std::printf("%s: utterances ended by", policy.c_str());
    for (const auto& [k, v] : overall[policy].reasons) std::printf(" %s %d", k.c_str(), v);
    std::printf("; sentences never closed %d\n", overall[policy].missed);
  }
  return 0;
}
