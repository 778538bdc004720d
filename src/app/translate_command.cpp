// SPDX-License-Identifier: GPL-3.0-or-later
// `parley translate IN.wav --from en --to es,fr,pt --out DIR`
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "app/args.h"
#include "app/commands.h"
#include "app/engine_set.h"
#include "app/progress.h"
#include "app/report.h"
#include "audio/wav_io.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "engines/language.h"
#include "transcript/captions.h"
#include "session/talk_words.h"
#include "words/spoken.h"

namespace parley::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = R"(usage: parley translate IN.wav --to LANG[,LANG...] [options]

Translates recorded speech: detects utterances, transcribes them, translates
each into every target language and synthesises the translation. Writes, per
target, DIR/<lang>.wav (speech placed at the source's timing) and
DIR/<lang>.vtt (captions timed from the source), plus DIR/source.vtt and
DIR/report.json (texts and per-stage timings).

options:
  --from LANG           language spoken in IN (default: en)
  --to LANG[,LANG...]   target languages, e.g. es,fr,pt (see: parley languages)
  --out DIR             output directory (default: parley-out)
  --glossary FILE       term pairs translations must honour (tab-separated:
                        from, to or *, source term, target term)
  --vocabulary FILE     the talk's own words (an agenda, names, slides,
                        related articles; text or Markdown, up to 256 KB):
                        the recogniser learns their words and phrases; a
                        glossary's source terms join them
  --script FILE         the text the speaker reads: recognition leans on
                        it, and each utterance that follows it is written
                        in the script's own words and punctuation
  --no-speech           captions only; skip speech synthesis
  --decoding MODE       offline (default): every utterance is recognised
                        twice, the second time normalised to its own voice,
                        for the best accuracy; live: exactly as a live
                        session decodes (sooner finals, a little less accurate)
  --speech-start-ms N   voiced audio needed to open an utterance (default 60)
  --hangover-ms N       silence that closes an utterance (default 350;
                        500 with --vad webrtc)
  --min-hangover-ms N   the shortest silence that can close one, with
                        --endpointing adaptive (default 150)
  --endpointing MODE    fixed (default here: always --hangover-ms) or
                        adaptive (sooner, on the recogniser's words, as a
                        live session does; see parley serve --help)
  --noise-floor MODE    gate the detector on the recording's background
                        level, so pauses in steady noise still end
                        utterances: auto (default: only for --vad webrtc),
                        on or off
  --vad, --stt, --mt, --tts LIST
                        engines per kind in priority order, as for parley
                        serve (see: parley engines), e.g.
                        --mt 'libretranslate(url=http://gpu:5000), apertium'
  --quiet               no progress output
)";

// Collects what the pipeline produces for the output files.
class Collector final : public pipeline::PipelineListener {
 public:
  std::vector<UtteranceRecord> records;
  std::map<std::string, std::vector<float>> speech_track;  // language → timeline
  int speech_rate_hz = 0;
  int n_errors = 0;

  void on_final(const pipeline::Utterance& u) override {
    if (!u.text.empty()) records.push_back({u, {}});
  }
  void on_translation(const pipeline::Utterance& u, const pipeline::TranslationResult& t) override {
    if (!records.empty() && records.back().utterance.id == u.id) records.back().translations[t.language] = t;
  }
  void on_speech_end(const pipeline::Utterance& u, const pipeline::TranslationResult& t,
                     const engines::tts::Speech& speech) override {
    if (!records.empty() && records.back().utterance.id == u.id) {
      records.back().translations[t.language] = t;  // now with TTS timings
    }
    // Place the speech where the source utterance started, or right after
    // the previous one when translations run longer than the original.
    auto& track = speech_track[t.language];
    size_t at = std::max(track.size(), static_cast<size_t>(u.start_ms * speech_rate_hz / 1000));
    track.resize(at, 0.0F);
    track.insert(track.end(), speech.audio.samples.begin(), speech.audio.samples.end());
  }
  void on_error(const core::Status& st) override {
    ++n_errors;
    print_error("warning: " + st.message());
  }
};

core::Status write_text(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) return core::unavailable("cannot write '" + path.string() + "'");
  return {};
}

// A UTF-8 text file of at most `max_bytes`.
core::Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return core::not_found("'" + path + "' is not a file");
  const auto size = fs::file_size(path, ec);
  if (ec) return core::unavailable("cannot read '" + path + "': " + ec.message());
  if (size > max_bytes) {
    return core::invalid_argument("'" + path + "' holds " + std::to_string(size / 1024) + " KB; at most " +
                                  std::to_string(max_bytes / 1024) + " KB is taken");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return core::unavailable("cannot read '" + path + "'");
  if (!core::is_valid_utf8(text)) return core::invalid_argument("'" + path + "' is not UTF-8 text");
  return text;
}

}  // namespace

int run_translate(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{"from", "to", "out", "glossary", "vocabulary", "script", "speech-start-ms", "hangover-ms", "min-hangover-ms", "endpointing", "noise-floor", "decoding", "vad",
                                  "stt", "mt", "tts"},
                                 {"no-speech", "quiet", "help"}});
  if (!args) {
    print_error(args.status().message());
    return 2;
  }
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args->positionals().size() != 1) {
    print_error("give exactly one input recording; see: parley translate --help");
    return 2;
  }
  const std::string input = args->positionals()[0];
  auto from = engines::normalize_language(args->get_or("from", "en"));
  if (!from) {
    print_error("'" + args->get_or("from", "") + "' is not a language code; use e.g. en");
    return 2;
  }
  std::vector<std::string> targets;
  for (const auto& t : split_list(args->get_or("to", ""))) {
    auto n = engines::normalize_language(t);
    if (!n) {
      print_error("'" + t + "' is not a language code; see: parley languages");
      return 2;
    }
    if (*n == *from) {
      print_error("target '" + *n + "' is the source language; drop it from --to");
      return 2;
    }
    if (std::find(targets.begin(), targets.end(), *n) == targets.end()) targets.push_back(*n);
  }
  if (targets.empty()) {
    print_error("--to is required, e.g. --to es,fr; see: parley languages");
    return 2;
  }
  auto start_ms = args->get_int("speech-start-ms", 60, 10, 2000);
  auto hangover_ms = args->get("hangover-ms") ? args->get_int("hangover-ms", 0, 50, 5000) : core::Result<int>(0);
  auto min_hangover_ms = args->get_int("min-hangover-ms", 150, 50, 5000);
  for (const auto* v : {&start_ms, &hangover_ms, &min_hangover_ms}) {
    if (!*v) {
      print_error(v->status().message());
      return 2;
    }
  }

  std::shared_ptr<const engines::mt::Glossary> glossary;
  if (auto g = args->get("glossary")) {
    auto loaded = engines::mt::Glossary::load(*g);
    if (!loaded) {
      print_error(loaded.status().message());
      return 2;
    }
    glossary = std::make_shared<const engines::mt::Glossary>(std::move(*loaded));
  }

  engines::stt::Vocabulary vocabulary;
  for (const auto& [flag, text] : {std::pair{"vocabulary", &vocabulary.text}, std::pair{"script", &vocabulary.script}}) {
    auto path = args->get(flag);
    if (!path) continue;
    auto read = read_text_file(*path, words::kMaxTextBytes);
    if (!read) {
      print_error("--" + std::string(flag) + ": " + read.status().message());
      return 2;
    }
    *text = std::move(*read);
  }
  if (glossary) {
    for (const auto& term : glossary->source_terms(*from)) vocabulary.text += "\n" + term;
  }

  const std::string decoding = args->get("decoding").value_or("offline");
  if (decoding != "offline" && decoding != "live") {
    print_error("--decoding must be offline or live, not '" + decoding + "'");
    return 2;
  }
  const bool speak = !args->has("no-speech");
  EngineOptions eo;
  eo.need_speech_out = speak;
  eo.offline_decoding = decoding == "offline";
  eo.vad = args->get_or("vad", eo.vad);
  eo.stt = args->get_or("stt", eo.stt);
  eo.mt = args->get_or("mt", eo.mt);
  eo.tts = args->get_or("tts", eo.tts);
  auto engines = load_engines(eo);
  if (!engines) {
    print_error(engines.status().message());
    return 1;
  }
  auto stt_langs = engines->stt->languages();
  if (std::find(stt_langs.begin(), stt_langs.end(), *from) == stt_langs.end()) {
    std::string have;
    for (const auto& l : stt_langs) have += (have.empty() ? "" : ", ") + l;
    print_error("no speech recogniser for '" + *from + "' is installed (recognisable: " + have +
                "); for text, use: parley translate-text");
    return 2;
  }
  for (const auto& t : targets) {
    if (auto r = engines->router->route(*from, t); !r) {
      print_error(r.status().message());
      return 2;
    }
  }

  auto audio = audio::read_audio_file_16k(input);
  if (!audio) {
    print_error(audio.status().message());
    return audio.status().code() == core::Code::not_found ? 2 : 1;
  }

  const fs::path out_dir = args->get_or("out", "parley-out");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    print_error("cannot create output directory '" + out_dir.string() + "': " + ec.message());
    return 1;
  }

  pipeline::PipelineConfig pc;
  pc.source_language = *from;
  pc.targets = targets;
  pc.synthesize = speak;
  pc.glossary = glossary;
  pc.segmenter.speech_start_ms = *start_ms;
  pc.segmenter.hangover_ms = hangover_ms_for(*hangover_ms, engines->vad.get());
  if (*min_hangover_ms > pc.segmenter.hangover_ms) {
    if (args->get("min-hangover-ms")) {
      std::fprintf(stderr, "parley: --min-hangover-ms %d is more than --hangover-ms %d; using %d for both\n",
                   *min_hangover_ms, pc.segmenter.hangover_ms, pc.segmenter.hangover_ms);
    }
    *min_hangover_ms = pc.segmenter.hangover_ms;
  }
  pc.segmenter.min_hangover_ms = *min_hangover_ms;
  const std::string endpointing = args->get_or("endpointing", "fixed");
  auto floor = follow_noise_floor(args->get_or("noise-floor", "auto"), engines->vad.get());
  if (endpointing != "fixed" && endpointing != "adaptive") {
    print_error("--endpointing takes fixed or adaptive");
    return 2;
  }
  if (!floor) {
    print_error(floor.status().message());
    return 2;
  }
  pc.segmenter.endpointing = endpointing == "adaptive" ? pipeline::EndpointPolicy::adaptive : pipeline::EndpointPolicy::fixed;
  pc.segmenter.noise_floor.enabled = *floor;
  pc.pace.enabled = false;  // a file has no listener falling behind
  Collector collector;
  const bool quiet = args->has("quiet");
  if (!vocabulary.empty()) {
    if (!quiet) std::fprintf(stderr, "learning the talk's words…\n");
    auto adapted = engines->stt->adapt(*from, vocabulary);
    if (!adapted) {
      print_error(adapted.status().message());
      return 1;
    }
    pc.stt_adaptation = *adapted;
    if (*adapted && !quiet) {
      const auto st = (*adapted)->stats();
      std::fprintf(stderr, "  %zu words, %zu new (%zu without a pronunciation), script %zu words; %.0f ms\n",
                   st.n_words, st.n_new_words, st.n_unpronounced, st.n_script_words, st.build_ms);
    }
    if (!vocabulary.script.empty()) pc.script.emplace(vocabulary.script);
    pc.lexicon = session::names_lexicon(vocabulary.text, glossary.get(), *from);
  }
  if (!quiet) std::fprintf(stderr, "loading engines…\n");
  auto pipe = pipeline::SpeakerPipeline::create(*engines, pc, collector);
  if (!pipe) {
    print_error(pipe.status().message());
    return 1;
  }
  collector.speech_rate_hz = (*pipe)->sample_rate_hz_out();
  for (const auto& t : targets) {
    if (speak && !(*pipe)->has_voice(t)) {
      print_error("warning: no voice for '" + t + "': writing captions only");
    }
  }

  // Feed the recording in 100 ms blocks, as a live stream would arrive.
  const int64_t t0 = core::now_us();
  Progress progress("translating", audio->duration_s(), quiet);
  const size_t block = audio::kPipelineRateHz / 10;
  const auto& samples = audio->samples;
  for (size_t off = 0; off < samples.size(); off += block) {
    size_t n = std::min(block, samples.size() - off);
    if (auto st = (*pipe)->push_audio(std::span(samples).subspan(off, n)); !st) {
      print_error(st.message());
      return 1;
    }
    progress.update(static_cast<double>(off + n) / audio::kPipelineRateHz,
                    std::to_string(collector.records.size()) + " utterances");
  }
  (*pipe)->finish();
  const double processing_s = static_cast<double>(core::now_us() - t0) / 1e6;
  progress.finish(std::to_string(collector.records.size()) + " utterances");

  // Captions and speech per language.
  std::vector<transcript::Cue> source_cues;
  for (const auto& r : collector.records) {
    source_cues.push_back({r.utterance.start_ms, r.utterance.end_ms, r.utterance.text});
  }
  std::vector<fs::path> written;
  auto emit = [&](const fs::path& p, const std::string& content) {
    if (auto st = write_text(p, content); !st) {
      print_error(st.message());
      return false;
    }
    written.push_back(p);
    return true;
  };
  if (!emit(out_dir / "source.vtt", transcript::to_webvtt(source_cues))) return 1;
  for (const auto& t : targets) {
    std::vector<transcript::Cue> cues;
    for (const auto& r : collector.records) {
      auto it = r.translations.find(t);
      if (it != r.translations.end()) cues.push_back({r.utterance.start_ms, r.utterance.end_ms, it->second.text});
    }
    if (!emit(out_dir / (t + ".vtt"), transcript::to_webvtt(cues))) return 1;
    if (speak && (*pipe)->has_voice(t)) {
      audio::MonoPcm track{collector.speech_track[t], collector.speech_rate_hz};
      // Match the source's length when the translation ends earlier.
      size_t src_len = static_cast<size_t>(audio->duration_s() * track.sample_rate_hz);
      if (track.samples.size() < src_len) track.samples.resize(src_len, 0.0F);
      auto p = out_dir / (t + ".wav");
      if (auto st = audio::write_wav16(p.string(), track); !st) {
        print_error(st.message());
        return 1;
      }
      written.push_back(p);
    }
  }
  RunTotals totals{audio->duration_s(), processing_s, input, *from, targets};
  auto report = build_report(collector.records, totals);
  if (!emit(out_dir / "report.json", report.dump(2) + "\n")) return 1;

  std::printf("translated %.1f s of audio in %.2f s (real-time factor %.3f): %zu utterances\n",
              audio->duration_s(), processing_s, processing_s / std::max(1e-9, audio->duration_s()),
              collector.records.size());
  for (const auto& p : written) std::printf("  %s\n", p.string().c_str());
  return collector.n_errors > 0 ? 1 : 0;
}

}  // namespace parley::app
