// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/wire.h"

#include <algorithm>

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
  if (w.speaker_generation > 0) j["speakerGeneration"] = w.speaker_generation;
  if (w.replay_from_seq > 0) {
    j["olderHistory"] = {{"after", w.since},
                         {"before", w.replay_from_seq},
                         {"url", "/api/sessions/" + w.info.code + "/history?after=" + std::to_string(w.since)}};
  }
  return make_text(Kind::control, dump(j));
}

fanout::MessagePtr state(State s) {
  return make_text(Kind::control, dump({{"type", "state"}, {"state", state_name(s)}}));
}

fanout::MessagePtr session_ended(const std::string& reason) {
  return make_text(Kind::control, dump({{"type", "sessionEnded"}, {"reason", reason}}));
}

json participant_json(const ParticipantInfo& p) {
  return {{"id", p.id},         {"name", p.name},     {"language", p.language}, {"typed", p.typed},
          {"online", p.online}, {"left", p.left},     {"joinedAtMs", p.joined_at_ms}};
}

fanout::MessagePtr conversation_welcome(const ConversationWelcome& w) {
  json you = participant_json(w.you);
  if (!w.token.empty()) you["token"] = w.token;
  json everyone = json::array();
  for (const auto& p : w.participants) everyone.push_back(participant_json(p));
  json j = {{"type", "conversation"}, {"protocol", kProtocolVersion}, {"code", w.code},
            {"title", w.title},       {"you", you},                   {"participants", everyone},
            {"halfDuplex", w.half_duplex}};
  j["floor"] = w.floor.empty() ? json(nullptr) : json(w.floor);
  return make_text(Kind::control, dump(j));
}

fanout::MessagePtr partner_joined(const ParticipantInfo& p, bool returning) {
  return make_text(Kind::control,
                   dump({{"type", "partnerJoined"}, {"participant", participant_json(p)}, {"returning", returning}}));
}

fanout::MessagePtr partner_left(const ParticipantInfo& p, bool for_good) {
  return make_text(Kind::control,
                   dump({{"type", "partnerLeft"}, {"participant", participant_json(p)}, {"forGood", for_good}}));
}

fanout::MessagePtr speaking(const std::string& participant, bool talking) {
  return make_text(Kind::control, dump({{"type", "speaking"}, {"participant", participant}, {"speaking", talking}}));
}

fanout::MessagePtr floor(const std::string& holder, bool half_duplex) {
  json j = {{"type", "floor"}, {"halfDuplex", half_duplex}};
  j["holder"] = holder.empty() ? json(nullptr) : json(holder);
  return make_text(Kind::control, dump(j));
}

fanout::MessagePtr conversation_ended(const std::string& reason) {
  return make_text(Kind::control, dump({{"type", "conversationEnded"}, {"reason", reason}}));
}

fanout::MessagePtr error(const std::string& code, const std::string& message, int retry_after_s) {
  json j = {{"type", "error"}, {"code", code}, {"message", message}};
  if (retry_after_s > 0) j["retryAfterS"] = retry_after_s;
  return make_text(Kind::control, dump(j));
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

fanout::MessagePtr final_caption(const CaptionEvent& c, bool from_history) {
  json m = {{"type", "final"},
            {"seq", c.seq},
            {"utteranceId", c.utterance_id},
            {"language", c.language},
            {"source", c.source},
            {"text", c.text},
            {"startMs", c.start_ms},
            {"endMs", c.end_ms},
            {"history", from_history}};
  if (c.since_end_ms >= 0 && !from_history) m["sinceEndMs"] = c.since_end_ms;
  if (c.from_script) m["fromScript"] = true;
  if (c.at_ms > 0) m["atMs"] = c.at_ms;
  return make_text(Kind::final, dump(m));
}

fanout::MessagePtr script_position(int64_t sentence, int64_t seq) {
  return make_text(Kind::final, dump({{"type", "scriptPosition"}, {"sentence", sentence}, {"seq", seq}}));
}

fanout::MessagePtr speech_skipped(int64_t seq, const std::string& language) {
  return make_text(Kind::final, dump({{"type", "speechSkipped"}, {"seq", seq}, {"language", language}}));
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
                          const avatar::Timeline& timeline, const std::string& ogg_opus) {
  constexpr size_t kMaxEntries = 0xFFFF;
  constexpr int64_t kMaxSample = 0xFFFFFF;
  const size_t n = std::min(timeline.entries.size(), kMaxEntries);
  std::string b;
  b.reserve(kSpeechFixedHeaderBytes + 4 * n + ogg_opus.size());
  auto put = [&](uint64_t v, int bytes) {
    for (int s = 8 * (bytes - 1); s >= 0; s -= 8) b += static_cast<char>((v >> s) & 0xff);
  };
  b += 'P';
  put(1, 1);  // kind: speech
  put(kSpeechHeaderVersion, 1);
  put(0, 1);
  put(static_cast<uint32_t>(seq), 4);
  put(static_cast<uint32_t>(utterance_id), 4);
  put(static_cast<uint32_t>(duration_ms), 4);
  put(static_cast<uint32_t>(std::max(0, timeline.sample_rate_hz)), 4);
  put(n, 2);
  put(0, 2);
  for (size_t i = 0; i < n; ++i) {
    put(static_cast<uint8_t>(timeline.entries[i].viseme), 1);
    put(static_cast<uint64_t>(std::clamp<int64_t>(timeline.entries[i].sample, 0, kMaxSample)), 3);
  }
  // The timeline-only variant is the same header and timeline, built here
  // once for every listener that takes no audio.
  auto without_audio = fanout::make_binary(Kind::audio, b);
  b += ogg_opus;
  return fanout::make_binary(Kind::audio, std::move(b), std::move(without_audio));
}

std::optional<SpeechMessage> parse_speech(std::string_view bytes) {
  auto get = [&](size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
    return v;
  };
  if (bytes.size() < kSpeechFixedHeaderBytes || bytes[0] != 'P' || get(1, 1) != 1 ||
      get(2, 1) != kSpeechHeaderVersion) {
    return std::nullopt;
  }
  SpeechMessage m;
  m.seq = static_cast<int64_t>(get(4, 4));
  m.utterance_id = get(8, 4);
  m.duration_ms = static_cast<int64_t>(get(12, 4));
  m.timeline.sample_rate_hz = static_cast<int>(get(16, 4));
  const size_t n = get(20, 2);
  if (bytes.size() < kSpeechFixedHeaderBytes + 4 * n) return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    const size_t at = kSpeechFixedHeaderBytes + 4 * i;
    const auto id = get(at, 1);
    if (id >= static_cast<uint64_t>(avatar::kVisemeCount)) return std::nullopt;
    m.timeline.entries.push_back({static_cast<avatar::Viseme>(id), static_cast<int64_t>(get(at + 1, 3))});
  }
  m.ogg = bytes.substr(kSpeechFixedHeaderBytes + 4 * n);
  return m;
}

std::optional<SpeechMode> parse_speech_mode(std::string_view name) {
  if (name == "full") return SpeechMode::full;
  if (name == "timeline") return SpeechMode::timeline;
  if (name == "none") return SpeechMode::none;
  return std::nullopt;
}

fanout::MessagePtr speech_timeline_only(const fanout::Message& m) {
  const std::string_view bytes = m.bytes;
  if (!m.binary || !parse_speech(bytes)) return nullptr;
  const size_t n = (static_cast<size_t>(static_cast<unsigned char>(bytes[20])) << 8) |
                   static_cast<unsigned char>(bytes[21]);
  return fanout::make_binary(m.kind, std::string(bytes.substr(0, kSpeechFixedHeaderBytes + 4 * n)));
}

}  // namespace parley::session::wire
