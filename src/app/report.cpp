// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/report.h"

#include <algorithm>
#include <cmath>

namespace parley::app {
namespace {
double round2(double v) { return std::round(v * 100.0) / 100.0; }
}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

nlohmann::json build_report(const std::vector<UtteranceRecord>& records, const RunTotals& totals) {
  using nlohmann::json;
  json utterances = json::array();
  double stt_total = 0, mt_total = 0, tts_total = 0;
  std::vector<double> mt_engine_ms;  // engine calls only (cache hits excluded)
  for (const auto& rec : records) {
    const auto& u = rec.utterance;
    json translations = json::object();
    json per_language = json::object();
    double mt = 0, tts = 0;
    for (const auto& [lang, t] : rec.translations) {
      translations[lang] = t.text;
      per_language[lang] = {{"route", t.route},
                            {"mt_ms", round2(t.times.mt_ms)},
                            {"tts_ms", round2(t.times.tts_ms)},
                            {"cache_hit", t.cache_hit},
                            {"glossary_terms", t.n_glossary_terms}};
      mt += t.times.mt_ms;
      tts += t.times.tts_ms;
      if (!t.cache_hit) mt_engine_ms.push_back(t.times.mt_ms);
    }
    json words = json::array();
    for (const auto& w : u.word_times) {
      words.push_back({{"word", w.text}, {"start_ms", w.start_ms}, {"end_ms", w.end_ms}});
    }
    json item = {{"id", u.id},
                 {"start_ms", u.start_ms},
                 {"end_ms", u.end_ms},
                 {"source", u.text},
                 {"words", words},
                 {"translations", translations},
                 {"timings_ms", {{"stt", round2(u.times.stt_ms)},
                                 {"mt", round2(mt)},
                                 {"tts", round2(tts)},
                                 {"per_language", per_language}}}};
    // Script mode: whether the text is the script's, and what was heard.
    if (u.script_sentence >= 0) {
      item["from_script"] = u.from_script;
      item["recognised"] = u.words;
      item["script_sentence"] = u.script_sentence;
    }
    utterances.push_back(std::move(item));
    stt_total += u.times.stt_ms;
    mt_total += mt;
    tts_total += tts;
  }
  json out;
  out["input"] = totals.input;
  out["from"] = totals.from;
  out["to"] = totals.targets;
  out["utterances"] = utterances;
  out["totals"] = {
      {"utterances", records.size()},
      {"audio_s", round2(totals.audio_s)},
      {"processing_s", round2(totals.processing_s)},
      {"real_time_factor",
       totals.audio_s > 0 ? std::round(totals.processing_s / totals.audio_s * 1000) / 1000 : 0.0},
      {"stt_ms", round2(stt_total)},
      {"mt_ms", round2(mt_total)},
      {"tts_ms", round2(tts_total)},
      {"mt_median_ms", round2(median(mt_engine_ms))},
  };
  return out;
}

}  // namespace parley::app
