// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/engine_set.h"


#include "engines/mt/apertium/apertium_mt.h"
#include "engines/stt/pocketsphinx/pocketsphinx_stt.h"
#include "engines/tts/espeak/espeak_tts.h"
#include "engines/vad/webrtc/webrtc_vad.h"

namespace parley::app {
namespace {

core::Status unknown_engine(const std::string& kind, const std::string& name) {
  std::string known;
  for (const auto& n : engine_names(kind)) known += (known.empty() ? "" : ", ") + n;
  return core::invalid_argument("unknown " + kind + " engine '" + name + "' (available: " + known + ")");
}

}  // namespace

std::vector<std::string> engine_names(const std::string& kind) {
  if (kind == "vad") return {"webrtc"};
  if (kind == "stt") return {"pocketsphinx"};
  if (kind == "mt") return {"apertium"};
  if (kind == "tts") return {"espeak"};
  return {};
}

core::Result<pipeline::Engines> load_engines(const EngineOptions& o) {
  pipeline::Engines e;
  if (o.need_speech_in) {
    if (o.vad != "webrtc") return unknown_engine("vad", o.vad);
    e.vad = engines::vad::make_webrtc_vad();
    if (o.stt != "pocketsphinx") return unknown_engine("stt", o.stt);
    engines::stt::PocketsphinxConfig ps;
    ps.max_decoders = o.stt_decoders;
    if (o.offline_decoding) {
      ps.cold_second_pass_ms = -1;
      ps.second_search_pass = true;
    }
    auto stt = engines::stt::make_pocketsphinx_stt(ps);
    if (!stt) return stt.status();
    e.stt = *stt;
  }
  if (o.mt != "apertium") return unknown_engine("mt", o.mt);
  auto mt = engines::mt::make_apertium_mt();
  if (!mt) return mt.status();
  e.router = std::make_shared<engines::mt::Router>(
      std::vector<std::shared_ptr<const engines::mt::Model>>{*mt});
  e.mt_cache = std::make_shared<engines::mt::TranslationCache>(o.mt_cache_entries);
  if (o.need_speech_out) {
    if (o.tts != "espeak") return unknown_engine("tts", o.tts);
    auto tts = engines::tts::make_espeak_tts();
    if (!tts) return tts.status();
    e.tts = *tts;
  }
  return e;
}

}  // namespace parley::app
