// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/wire.h"

#include <nlohmann/json.hpp>

namespace parley::session::wire {

using nlohmann::json;
using fanout::Kind;
using fanout::make_text;

namespace {
std::string dump(const json& j) {
  // Replace invalid UTF-8 rather than throw: engine output is not trusted.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
}  // namespace

fanout::MessagePtr welcome(const Welcome& w) {
  json j = {{"type", "welcome"},
            {"protocol", kProtocolVersion},
            {"role", w.role},
            {"code", w.info.code},
            {"name", w.info.spec.name},
            {"state", state_name(w.info.state)},
            {"sourceLanguage", w.info.spec.source_language},
            {"avatar", w.info.spec.avatar},
            {"lastSeq", w.last_seq}};
  if (!w.language.empty()) j["language"] = w.language;
  return make_text(Kind::control, dump(j));
}

fanout::MessagePtr state(State s) {
  return make_text(Kind::control, dump({{"type", "state"}, {"state", state_name(s)}}));
}

fanout::MessagePtr session_ended(const std::string& reason) {
  return make_text(Kind::control, dump({{"type", "sessionEnded"}, {"reason", reason}}));
}

fanout::MessagePtr error(const std::string& code, const std::string& message) {
  return make_text(Kind::control, dump({{"type", "error"}, {"code", code}, {"message", message}}));
}

fanout::MessagePtr partial(uint64_t utterance_id, uint32_t revision, const std::string& language,
                           const std::string& source, const std::string& text) {
  return make_text(Kind::partial, dump({{"type", "partial"},
                                        {"utteranceId", utterance_id},
                                        {"revision", revision},
                                        {"language", language},
                                        {"source", source},
                                        {"text", text}}));
}

fanout::MessagePtr discard(uint64_t utterance_id) {
  return make_text(Kind::partial, dump({{"type", "discard"}, {"utteranceId", utterance_id}}));
}

fanout::MessagePtr final_caption(const store::HistoryItem& item, const std::string& language,
                                 bool from_history) {
  auto it = item.translations.find(language);
  const std::string& text = it != item.translations.end() ? it->second.text : item.source_text;
  return make_text(Kind::final, dump({{"type", "final"},
                                      {"seq", item.seq},
                                      {"utteranceId", item.utterance_id},
                                      {"language", language},
                                      {"source", item.source_text},
                                      {"text", text},
                                      {"startMs", item.start_ms},
                                      {"endMs", item.end_ms},
                                      {"history", from_history}}));
}

fanout::MessagePtr listeners(const std::map<std::string, size_t>& by_language) {
  size_t total = 0;
  json by = json::object();
  for (const auto& [lang, n] : by_language) {
    by[lang] = n;
    total += n;
  }
  return make_text(Kind::control, dump({{"type", "listeners"}, {"total", total}, {"byLanguage", by}}));
}

fanout::MessagePtr speech(int64_t seq, uint64_t utterance_id, int64_t duration_ms,
                          const std::string& ogg_opus) {
  std::string b;
  b.reserve(kSpeechHeaderBytes + ogg_opus.size());
  b += 'P';
  b += static_cast<char>(1);
  b += static_cast<char>(1);
  b += static_cast<char>(0);
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b += static_cast<char>((v >> s) & 0xff);
  };
  put32(static_cast<uint32_t>(seq));
  put32(static_cast<uint32_t>(utterance_id));
  put32(static_cast<uint32_t>(duration_ms));
  b += ogg_opus;
  return fanout::make_binary(Kind::audio, std::move(b));
}

}  // namespace parley::session::wire
