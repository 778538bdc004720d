// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/engine_set.h"

#include "engines/mt/apertium/apertium_mt.h"
#include "engines/mt/libretranslate/libretranslate_mt.h"
#include "engines/remote/endpoint.h"
#include "engines/stt/openai/openai_stt.h"
#include "engines/tts/openai/openai_tts.h"
#include "engines/mt/restricted.h"
#include "engines/registry.h"
#include "engines/stt/chain.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"
#include "engines/tts/chain.h"
#include "engines/tts/espeak/espeak_tts.h"
#include "engines/vad/silero/silero_vad.h"
#include "engines/vad/webrtc/webrtc_vad.h"

namespace parley::app {
namespace {

using engines::Factory;
using engines::Settings;

template <class M>
using Made = core::Result<std::shared_ptr<const M>>;

// The registry: every engine parley can build, per kind. The options give
// defaults that settings may override.
struct Tables {
  std::vector<Factory<engines::vad::Model>> vad;
  std::vector<Factory<engines::stt::Model>> stt;
  std::vector<Factory<engines::mt::Model>> mt;
  std::vector<Factory<engines::tts::Model>> tts;
};

Tables tables(const EngineOptions& o) {
  Tables t;
  t.vad.push_back({"silero", "Silero's learned voice activity detector, run by parley (embedded; the default)",
                   {"model", "threshold-percent"},
                   [](const Settings& s) -> Made<engines::vad::Model> {
                     engines::vad::SileroVadConfig c;
                     auto threshold = s.get_long("threshold-percent", 50, 20, 95);
                     if (!threshold) return threshold.status();
                     c.threshold = static_cast<double>(*threshold) / 100.0;
                     c.model_path = s.get_or("model", c.model_path);
                     return engines::vad::make_silero_vad(c);
                   }});
  t.vad.push_back({"webrtc", "WebRTC's voice activity detector (embedded)", {"likelihood"},
                   [](const Settings& s) -> Made<engines::vad::Model> {
                     auto likelihood = s.get_long("likelihood", 0, 0, 3);
                     if (!likelihood) return likelihood.status();
                     engines::vad::WebrtcVadConfig c;
                     c.likelihood = static_cast<int>(*likelihood);
                     return engines::vad::make_webrtc_vad(c);
                   }});
  t.stt.push_back({"pocketsphinx", "CMU pocketsphinx, US English (embedded)",
                   {"decoders", "model-dir", "second-pass-ms"},
                   [o](const Settings& s) -> Made<engines::stt::Model> {
                     engines::stt::PocketsphinxConfig c;
                     auto decoders = s.get_long("decoders", static_cast<long>(o.stt_decoders), 1, 1000);
                     auto second = s.get_long("second-pass-ms", o.offline_decoding ? -1 : c.cold_second_pass_ms,
                                              -1, 86400000);
                     for (const auto* r : {&decoders, &second}) {
                       if (!*r) return r->status();
                     }
                     c.max_decoders = static_cast<size_t>(*decoders);
                     c.cold_second_pass_ms = static_cast<int>(*second);
                     c.second_search_pass = o.offline_decoding;
                     c.model_dir = s.get_or("model-dir", c.model_dir);
                     return engines::stt::make_pocketsphinx_stt(c);
                   }});
  t.mt.push_back({"apertium", "Apertium rule-based pairs installed from Debian (embedded)", {"pipelines"},
                  [](const Settings& s) -> Made<engines::mt::Model> {
                    engines::mt::ApertiumConfig c;
                    auto pipelines = s.get_long("pipelines", c.pipelines_per_direction, 1, 64);
                    if (!pipelines) return pipelines.status();
                    c.pipelines_per_direction = static_cast<int>(*pipelines);
                    return engines::mt::make_apertium_mt(c);
                  }});
  // Remote engines: any server that speaks the protocol (parley's own
  // engine API among them); each falls back to the next entry for the
  // language when its server fails.
  auto keys = [](std::vector<std::string> own) {
    auto k = engines::remote::endpoint_setting_keys();
    k.insert(k.end(), own.begin(), own.end());
    return k;
  };
  t.stt.push_back({"openai-stt", "an OpenAI-compatible transcription server, e.g. whisper.cpp or another parley (remote)",
                   keys({"model", "partial-interval-ms"}), engines::stt::make_openai_stt});
  t.mt.push_back({"libretranslate", "a LibreTranslate-compatible server, or another parley (remote)", keys({}),
                  engines::mt::make_libretranslate_mt});
  t.tts.push_back({"openai-tts", "an OpenAI-compatible speech server, e.g. Kokoro, Piper or another parley (remote)",
                   keys({"model", "voices", "rate-hz"}), engines::tts::make_openai_tts});
  t.tts.push_back({"espeak", "espeak-ng, about 100 languages (embedded)", {"rate-wpm", "pitch"},
                   [](const Settings& s) -> Made<engines::tts::Model> {
                     engines::tts::EspeakConfig c;
                     auto rate = s.get_long("rate-wpm", c.rate_wpm, 80, 450);
                     auto pitch = s.get_long("pitch", c.pitch, 0, 100);
                     for (const auto* r : {&rate, &pitch}) {
                       if (!*r) return r->status();
                     }
                     c.rate_wpm = static_cast<int>(*rate);
                     c.pitch = static_cast<int>(*pitch);
                     return engines::tts::make_espeak_tts(c);
                   }});
  return t;
}

template <class M>
core::Result<std::vector<std::pair<std::shared_ptr<const M>, Settings>>> build_kind(
    const std::vector<Factory<M>>& table, const std::string& list, const std::string& kind) {
  auto specs = engines::parse_engine_list(list);
  if (!specs) return core::invalid_argument("--" + kind + ": " + specs.status().message());
  return engines::build(table, *specs, kind);
}

template <class M>
std::vector<std::string> describe(const std::vector<Factory<M>>& table) {
  std::vector<std::string> out;
  for (const auto& f : table) {
    std::string keys = "languages";
    for (const auto& k : f.setting_keys) keys += ", " + k;
    out.push_back(f.name + " — " + f.summary + "; settings: " + keys);
  }
  return out;
}

}  // namespace

std::vector<std::string> describe_engines(const std::string& kind) {
  const Tables t = tables({});
  if (kind == "vad") return describe(t.vad);
  if (kind == "stt") return describe(t.stt);
  if (kind == "mt") return describe(t.mt);
  if (kind == "tts") return describe(t.tts);
  return {};
}

core::Result<pipeline::Engines> load_engines(const EngineOptions& o) {
  const Tables t = tables(o);
  pipeline::Engines e;
  if (o.need_speech_in) {
    auto vad = build_kind(t.vad, o.vad, "vad");
    if (!vad) return vad.status();
    if (vad->size() != 1) return core::invalid_argument("--vad: name exactly one detector");
    e.vad = vad->front().first;
    auto stt = build_kind(t.stt, o.stt, "stt");
    if (!stt) return stt.status();
    std::vector<engines::stt::Chain::Member> members;
    for (auto& [model, settings] : *stt) members.push_back({model, settings.languages()});
    e.stt = members.size() == 1 && members.front().languages.empty()
                ? members.front().model
                : std::make_shared<engines::stt::Chain>(std::move(members));
  }
  auto mt = build_kind(t.mt, o.mt, "mt");
  if (!mt) return mt.status();
  std::vector<std::shared_ptr<const engines::mt::Model>> mt_models;
  for (auto& [model, settings] : *mt) {
    auto only = settings.languages();
    mt_models.push_back(only.empty() ? model : std::make_shared<engines::mt::Restricted>(model, only));
  }
  e.router = std::make_shared<engines::mt::Router>(std::move(mt_models));
  e.mt_cache = std::make_shared<engines::mt::TranslationCache>(o.mt_cache_entries);
  if (o.need_speech_out) {
    auto tts = build_kind(t.tts, o.tts, "tts");
    if (!tts) return tts.status();
    std::vector<engines::tts::Chain::Member> members;
    for (auto& [model, settings] : *tts) members.push_back({model, settings.languages()});
    e.tts = members.size() == 1 && members.front().languages.empty()
                ? members.front().model
                : std::make_shared<engines::tts::Chain>(std::move(members));
  }
  return e;
}

core::Result<bool> follow_noise_floor(const std::string& setting, const engines::vad::Model* vad) {
  if (setting == "on") return true;
  if (setting == "off") return false;
  if (setting == "auto") return vad != nullptr && vad->name() == "webrtc";
  return core::invalid_argument("--noise-floor takes auto, on or off, not '" + setting + "'");
}

int hangover_ms_for(int max_ms, const engines::vad::Model* vad) {
  if (max_ms > 0) return max_ms;
  return vad != nullptr && vad->name() == "webrtc" ? 500 : 350;
}

}  // namespace parley::app
